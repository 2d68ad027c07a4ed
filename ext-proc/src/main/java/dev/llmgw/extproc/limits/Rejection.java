package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;

/**
 * Why a request was refused, in numbers a client can act on (HTTP 429 with {@code retry-after}, or
 * 503 for {@link Kind#LIMITS_UNAVAILABLE}) and in a message that names the scope by tenant name or
 * key fingerprint only.
 *
 * @param kind which limit refused it
 * @param scopeKind whose limit it is
 * @param scopeId the tenant name or API key fingerprint
 * @param limit the limit: USD for {@link Kind#BUDGET}, tokens for {@link Kind#TOKENS_PER_MINUTE},
 *     requests for {@link Kind#REQUESTS_PER_MINUTE}; 0 for {@link Kind#LIMITS_UNAVAILABLE}
 * @param remaining what is left of it now (never negative); 0 for {@link Kind#LIMITS_UNAVAILABLE}
 * @param resetAt when the request would fit: the next period for budgets, the second enough of the
 *     last minute's usage has aged out for rate limits
 * @param retryAfter from now until {@code resetAt}
 * @param message for the client
 */
public record Rejection(
    Kind kind,
    ScopeKind scopeKind,
    String scopeId,
    BigDecimal limit,
    BigDecimal remaining,
    Instant resetAt,
    Duration retryAfter,
    String message) {

  /** Which limit refused a request. */
  public enum Kind {
    BUDGET("budget"),
    TOKENS_PER_MINUTE("tokens_per_minute"),
    REQUESTS_PER_MINUTE("requests_per_minute"),
    /** The store could not be reached and the limit is configured to fail closed. */
    LIMITS_UNAVAILABLE("limits_unavailable");

    private final String tag;

    Kind(String tag) {
      this.tag = tag;
    }

    /** The value of the metric tag {@code kind}. */
    public String tag() {
      return tag;
    }
  }

  public Rejection {
    requireNonNull(kind, "kind");
    requireNonNull(scopeKind, "scopeKind");
    requireNonNull(scopeId, "scopeId");
    requireNonNull(limit, "limit");
    requireNonNull(remaining, "remaining");
    requireNonNull(resetAt, "resetAt");
    requireNonNull(retryAfter, "retryAfter");
    requireNonNull(message, "message");
  }
}
