package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

/**
 * Tokens and requests per minute for one scope; 0 leaves that dimension unlimited. With {@code id}
 * {@value BudgetRule#EVERY} every API key (or tenant) gets its own limit of that size; a rule
 * naming one id replaces it for that id.
 *
 * @param scope whom it limits
 * @param id the API key fingerprint or tenant name, or {@value BudgetRule#EVERY}
 * @param tokensPerMinute prompt plus output tokens per sliding minute, or 0
 * @param requestsPerMinute requests per sliding minute, or 0
 */
public record RateRule(ScopeKind scope, String id, long tokensPerMinute, long requestsPerMinute) {

  /** Largest per-minute limit: far below 2^53, where Lua's numbers stop being exact. */
  static final long MAX = 1_000_000_000_000L;

  public RateRule {
    requireNonNull(scope, "scope");
    id = LimitsConfig.requireId(id);
    if (tokensPerMinute < 0 || tokensPerMinute > MAX) {
      throw new IllegalArgumentException(
          "tokens_per_minute: " + tokensPerMinute + " (expected: 0 (no limit) to " + MAX + ")");
    }
    if (requestsPerMinute < 0 || requestsPerMinute > MAX) {
      throw new IllegalArgumentException(
          "requests_per_minute: " + requestsPerMinute + " (expected: 0 (no limit) to " + MAX + ")");
    }
    if (tokensPerMinute == 0 && requestsPerMinute == 0) {
      throw new IllegalArgumentException(
          "tokens_per_minute and requests_per_minute: both 0 (expected: at least one > 0)");
    }
  }
}
