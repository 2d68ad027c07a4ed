package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;

/**
 * What admission needs to know about a request before it is forwarded.
 *
 * @param apiKeyId nullable; the API key's fingerprint ({@code Identity.apiKeyId()}), never the key
 *     itself, because it appears in messages, logs and store keys
 * @param tenant nullable; the tenant name
 * @param model the model the client asked for; a request already on a budget's downgrade model is
 *     not told to downgrade
 * @param estimatedTokens counted prompt tokens plus the expected output tokens
 * @param estimatedCostUsd the cost those tokens would have; reserved against budgets
 * @param route nullable; the route the policy chose (a named route or a provider's own route)
 * @param apiKeyKnown whether the policy registers the API key
 * @param tenantKnown whether the policy knows the tenant (from a key's registration, or a tenant
 *     with its own models) rather than only the client's header naming it
 */
public record LimitRequest(
    @Nullable String apiKeyId,
    @Nullable String tenant,
    String model,
    long estimatedTokens,
    BigDecimal estimatedCostUsd,
    @Nullable String route,
    boolean apiKeyKnown,
    boolean tenantKnown) {

  /** A request whose key and tenant the policy knows only from limit rules naming them. */
  public LimitRequest(
      @Nullable String apiKeyId,
      @Nullable String tenant,
      String model,
      long estimatedTokens,
      BigDecimal estimatedCostUsd,
      @Nullable String route) {
    this(apiKeyId, tenant, model, estimatedTokens, estimatedCostUsd, route, false, false);
  }

  /** A request without a route: only API key and tenant limits apply. */
  public LimitRequest(
      @Nullable String apiKeyId,
      @Nullable String tenant,
      String model,
      long estimatedTokens,
      BigDecimal estimatedCostUsd) {
    this(apiKeyId, tenant, model, estimatedTokens, estimatedCostUsd, null);
  }

  public LimitRequest {
    requireNonNull(model, "model");
    if (estimatedTokens < 0) {
      throw new IllegalArgumentException(
          "estimatedTokens: " + estimatedTokens + " (expected: >= 0)");
    }
    Usd.requireAmount("estimatedCostUsd", estimatedCostUsd);
  }
}
