package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Metric names and tags of budgets and rate limits, in one place. Tags are bounded (kinds, scope
 * kinds, configured thresholds); scope ids are never tags, so keys and tenants cannot create series.
 * Meters are cached by their tags, so a request does a map read and an increment.
 */
public final class LimitsMetrics {

  /** Refused requests, by {@code kind} and {@code scope_kind}. Prometheus: {@code llmgw_limits_rejections_total}. */
  public static final String REJECTIONS = "llmgw.limits.rejections";
  /** Requests admitted with a budget's cheaper model, by {@code scope_kind}. */
  public static final String DOWNGRADES = "llmgw.limits.downgrades";
  /** Store operations that failed, by {@code operation} (reserve/settle). Prometheus: {@code llmgw_limits_store_errors_total}. */
  public static final String STORE_ERRORS = "llmgw.limits.store.errors";
  /** Budget alert thresholds crossed, by {@code scope_kind} and {@code threshold}. Prometheus: {@code llmgw_budget_alerts_total}. */
  public static final String BUDGET_ALERTS = "llmgw.budget.alerts";

  public static final String TAG_KIND = "kind";
  public static final String TAG_SCOPE_KIND = "scope_kind";
  public static final String TAG_THRESHOLD = "threshold";
  public static final String TAG_OPERATION = "operation";

  private final MeterRegistry registry;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  LimitsMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  void rejection(Rejection.Kind kind, ScopeKind scope) {
    counters
        .computeIfAbsent(
            REJECTIONS + '\0' + kind + '\0' + scope,
            k -> Counter.builder(REJECTIONS)
                .description(
                    "Requests refused by a budget or rate limit, or because limits could not be checked")
                .tag(TAG_KIND, kind.tag())
                .tag(TAG_SCOPE_KIND, scope.configName())
                .register(registry))
        .increment();
  }

  void downgrade(ScopeKind scope) {
    counters
        .computeIfAbsent(
            DOWNGRADES + '\0' + scope,
            k -> Counter.builder(DOWNGRADES)
                .description(
                    "Requests admitted with a budget's cheaper model because the budget is used up")
                .tag(TAG_SCOPE_KIND, scope.configName())
                .register(registry))
        .increment();
  }

  void storeError(String operation) {
    counters
        .computeIfAbsent(
            STORE_ERRORS + '\0' + operation,
            k -> Counter.builder(STORE_ERRORS)
                .description(
                    "Limit store operations that failed; admission then follows on_store_error")
                .tag(TAG_OPERATION, operation)
                .register(registry))
        .increment();
  }

  void alert(ScopeKind scope, String threshold) {
    counters
        .computeIfAbsent(
            BUDGET_ALERTS + '\0' + scope + '\0' + threshold,
            k -> Counter.builder(BUDGET_ALERTS)
                .description(
                    "Budget alert thresholds crossed by settled spend, once per scope and period")
                .tag(TAG_SCOPE_KIND, scope.configName())
                .tag(TAG_THRESHOLD, threshold)
                .register(registry))
        .increment();
  }
}
