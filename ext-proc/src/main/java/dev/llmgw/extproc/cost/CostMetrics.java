package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Metric names and tags of cost accounting, in one place. Spend is a counter per tenant, model,
 * route, provider and whether it was estimated; billed tokens a counter per kind. The route is what
 * the policy chose, the provider who served the exchange: on a weighted or failover route they
 * differ, and each is a tag of its own.
 *
 * <p>Tag values are kept bounded, because every distinct combination is a time series held in
 * memory by the registry and by Prometheus: the model is a price catalog name (unpriced models are
 * never tagged); routes and providers are the operator's (the control plane's configuration, not the
 * client's); a missing tenant is {@value #NO_TENANT}; after {@code maxTenants} distinct tenants,
 * further ones are counted as {@value #OTHER_TENANT}. API keys, users and request ids are never tags:
 * there can be any number of them. Attribute spend to them through the request's dynamic metadata and
 * access logs instead.
 *
 * <p>Micrometer counters hold a {@code double}: the dollar counter is a running total for dashboards
 * and alerts, not a ledger. The exact amount of each exchange is {@link Cost#usd()}.
 */
public final class CostMetrics {

  /** Dollars spent; Prometheus: {@code llmgw_cost_usd_total}. */
  public static final String COST_USD = "llmgw.cost.usd";
  /** Tokens billed, by kind; Prometheus: {@code llmgw_tokens_billed_total}. */
  public static final String TOKENS_BILLED = "llmgw.tokens.billed";
  /** Exchanges that could not be priced, by reason; Prometheus: {@code llmgw_cost_unpriced_total}. */
  public static final String UNPRICED = "llmgw.cost.unpriced";

  public static final String TAG_TENANT = "tenant";
  public static final String TAG_MODEL = "model";
  /** The route the policy chose (the route header's value). */
  public static final String TAG_ROUTE = "route";
  /** The provider that served the exchange, as Envoy reported it. */
  public static final String TAG_PROVIDER = "provider";
  /** {@code true} or {@code false}: whether the gateway's counts stood in for the provider's usage. */
  public static final String TAG_ESTIMATED = "estimated";
  /** {@code input}, {@code cached_input}, {@code cache_write}, {@code output} or {@code reasoning}. */
  public static final String TAG_KIND = "kind";
  /** An {@link Unpriced.Reason#tag()}. */
  public static final String TAG_REASON = "reason";

  /** Tenant tag of exchanges without a tenant. */
  public static final String NO_TENANT = "none";
  /** Tenant tag of tenants beyond the first {@code maxTenants}. */
  public static final String OTHER_TENANT = "other";
  /** Route tag of exchanges whose model was passed through without a route. */
  public static final String NO_ROUTE = "none";
  /** Provider tag when Envoy named none (no provider answered, or the cluster is not tagged). */
  public static final String UNKNOWN_PROVIDER = "unknown";

  public static final int DEFAULT_MAX_TENANTS = 1000;

  private final MeterRegistry registry;
  private final int maxTenants;
  private final Set<String> tenants = ConcurrentHashMap.newKeySet();
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  public CostMetrics(MeterRegistry registry) {
    this(registry, DEFAULT_MAX_TENANTS);
  }

  /** @param maxTenants distinct tenant tag values before further tenants become {@value #OTHER_TENANT} */
  public CostMetrics(MeterRegistry registry, int maxTenants) {
    this.registry = requireNonNull(registry, "registry");
    if (maxTenants <= 0) {
      throw new IllegalArgumentException("maxTenants: " + maxTenants + " (expected: > 0)");
    }
    this.maxTenants = maxTenants;
  }

  /**
   * Counts one priced exchange.
   *
   * @param tenant the tenant, or null / "" when the request carried none
   * @param route the route the policy chose, or null when the model was passed through
   * @param provider the provider that served it, or null when unknown
   */
  public void record(
      @Nullable String tenant, @Nullable String route, @Nullable String provider, Cost cost) {
    requireNonNull(cost, "cost");
    String t = tenantTag(tenant);
    String r = tag(route, NO_ROUTE);
    String p = tag(provider, UNKNOWN_PROVIDER);
    String estimated = Boolean.toString(cost.estimated());
    counters
        .computeIfAbsent(
            COST_USD + '\0' + t + '\0' + cost.model() + '\0' + r + '\0' + p + '\0' + estimated,
            k -> Counter.builder(COST_USD)
                .description(
                    "US dollars spent, at the price catalog's rates; estimated=true where the gateway's token counts stood in for the provider's usage")
                .baseUnit("usd")
                .tag(TAG_TENANT, t)
                .tag(TAG_MODEL, cost.model())
                .tag(TAG_ROUTE, r)
                .tag(TAG_PROVIDER, p)
                .tag(TAG_ESTIMATED, estimated)
                .register(registry))
        .increment(cost.usd().doubleValue());
    Cost.Breakdown b = cost.breakdown();
    tokens(t, cost.model(), r, p, "input", b.inputTokens());
    tokens(t, cost.model(), r, p, "cached_input", b.cachedInputTokens());
    tokens(t, cost.model(), r, p, "cache_write", b.cacheWriteTokens());
    tokens(t, cost.model(), r, p, "output", b.outputTokens());
    tokens(t, cost.model(), r, p, "reasoning", b.reasoningTokens());
  }

  /** Counts one exchange that could not be priced; its model is not a tag (it may be any string). */
  public void unpriced(@Nullable String route, @Nullable String provider, Unpriced.Reason reason) {
    requireNonNull(reason, "reason");
    String r = tag(route, NO_ROUTE);
    String p = tag(provider, UNKNOWN_PROVIDER);
    counters
        .computeIfAbsent(
            UNPRICED + '\0' + r + '\0' + p + '\0' + reason.tag(),
            k -> Counter.builder(UNPRICED)
                .description(
                    "Exchanges without a cost: unknown model, upstream error without usage, or no output price")
                .tag(TAG_ROUTE, r)
                .tag(TAG_PROVIDER, p)
                .tag(TAG_REASON, reason.tag())
                .register(registry))
        .increment();
  }

  private void tokens(
      String tenant, String model, String route, String provider, String kind, long tokens) {
    if (tokens <= 0) {
      return;
    }
    counters
        .computeIfAbsent(
            TOKENS_BILLED
                + '\0'
                + tenant
                + '\0'
                + model
                + '\0'
                + route
                + '\0'
                + provider
                + '\0'
                + kind,
            k -> Counter.builder(TOKENS_BILLED)
                .description("Tokens priced by cost accounting, by how they are billed")
                .tag(TAG_TENANT, tenant)
                .tag(TAG_MODEL, model)
                .tag(TAG_ROUTE, route)
                .tag(TAG_PROVIDER, provider)
                .tag(TAG_KIND, kind)
                .register(registry))
        .increment(tokens);
  }

  private String tenantTag(@Nullable String tenant) {
    if (tenant == null || tenant.isBlank()) {
      return NO_TENANT;
    }
    if (tenants.contains(tenant)) {
      return tenant;
    }
    synchronized (tenants) { // only for a tenant not seen yet, so the cap holds exactly
      if (tenants.contains(tenant) || tenants.size() < maxTenants) {
        tenants.add(tenant);
        return tenant;
      }
      return OTHER_TENANT;
    }
  }

  private static String tag(@Nullable String value, String absent) {
    return value == null || value.isBlank() ? absent : value;
  }
}
