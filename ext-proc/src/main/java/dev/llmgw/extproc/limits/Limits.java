package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.limits.Hold.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Budgets and rate limits on the request path: {@link #admit} before a request is forwarded,
 * {@link #settle} after its response. Admission checks and reserves every applicable limit in one
 * atomic store operation, so however many requests are in flight, reservations never exceed a
 * limit; spend above a limit can only come from requests whose actual usage exceeded their
 * estimate. See docs/limits.md for the semantics.
 *
 * <p>Thread-safe and stateless apart from the store, so a configuration change is a new
 * {@code Limits} over the same store; admissions carry what settling needs, so either instance can
 * settle them.
 */
public final class Limits {

  /** How long after its period a budget counter still accepts late settlements, then expires. */
  static final Duration PERIOD_GRACE = Duration.ofDays(1);
  /** What a fail-closed refusal tells the client to wait. */
  static final Duration UNAVAILABLE_RETRY = Duration.ofSeconds(1);

  private static final long STORE_ERROR_LOG_INTERVAL_MILLIS = 10_000;
  private static final Period[] PERIODS = Period.values();
  private static final Logger log = LoggerFactory.getLogger(Limits.class);

  private final LimitStore store;
  private final Clock clock;
  private final LimitsMetrics metrics;
  private final LimitsConfig config;
  private final Map<ScopeKind, Map<Period, Map<String, CompiledBudget>>> budgets =
      new EnumMap<>(ScopeKind.class);
  private final Map<ScopeKind, Map<String, RateRule>> rates = new EnumMap<>(ScopeKind.class);
  private final AtomicLong nextStoreErrorLog = new AtomicLong(Long.MIN_VALUE);

  private Limits(Builder builder) {
    this.store = requireNonNull(builder.store, "store");
    this.clock = requireNonNull(builder.clock, "clock");
    this.metrics = new LimitsMetrics(requireNonNull(builder.registry, "meterRegistry"));
    this.config = requireNonNull(builder.config, "config");
    for (BudgetRule rule : config.budgets()) {
      budgets
          .computeIfAbsent(rule.scope(), s -> new EnumMap<>(Period.class))
          .computeIfAbsent(rule.period(), p -> new HashMap<>())
          .put(rule.id(), CompiledBudget.of(rule));
    }
    for (RateRule rule : config.rates()) {
      rates.computeIfAbsent(rule.scope(), s -> new HashMap<>()).put(rule.id(), rule);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public LimitsConfig config() {
    return config;
  }

  /**
   * Checks every budget and rate limit that applies to the request and, if all admit it, reserves
   * its estimated cost and tokens and one request in each. Limits are checked API key before
   * tenant before route, budgets before rate limits; a refusal names the first limit that does not fit and
   * reserves nothing. A downgrade budget that does not fit admits the request with its cheaper
   * model. Costs are counted in whole micro-dollars, rounded up.
   */
  public Admission admit(LimitRequest request) {
    requireNonNull(request, "request");
    Instant now = clock.instant();
    long second = now.getEpochSecond();
    long costMicros = Usd.ceilMicros(request.estimatedCostUsd());
    List<Hold> holds = new ArrayList<>(8);
    List<Charge> charges = new ArrayList<>(8);
    long tokens = request.estimatedTokens();
    addBudgets(
        ScopeKind.API_KEY,
        request.apiKeyId(),
        request.apiKeyKnown(),
        now,
        costMicros,
        holds,
        charges);
    addBudgets(
        ScopeKind.TENANT, request.tenant(), request.tenantKnown(), now, costMicros, holds, charges);
    addBudgets(ScopeKind.ROUTE, request.route(), true, now, costMicros, holds, charges);
    addRates(
        ScopeKind.API_KEY,
        request.apiKeyId(),
        request.apiKeyKnown(),
        second,
        tokens,
        holds,
        charges);
    addRates(
        ScopeKind.TENANT, request.tenant(), request.tenantKnown(), second, tokens, holds, charges);
    addRates(ScopeKind.ROUTE, request.route(), true, second, tokens, holds, charges);
    if (charges.isEmpty()) {
      return Admission.unlimited();
    }
    Reservation reservation;
    try {
      reservation = store.reserve(charges, second);
    } catch (RuntimeException e) {
      return storeUnavailable(request, holds, costMicros, now, e);
    }
    if (!reservation.admitted()) {
      int i = reservation.failed();
      Rejection rejection = rejection(holds.get(i), charges.get(i), reservation, now);
      metrics.rejection(rejection.kind(), rejection.scopeKind());
      return Admission.rejected(rejection);
    }
    String downgradeTo = null;
    for (int i = 0; i < charges.size() && downgradeTo == null; i++) {
      Charge c = charges.get(i);
      if (!c.enforced() && reservation.used()[i] + c.amount() > c.limit()) {
        // Only a budget with a cheaper model is not enforced.
        String cheaper = holds.get(i).budgetOfBudgetHold().rule().downgradeTo();
        if (cheaper != null && !cheaper.equals(request.model())) {
          downgradeTo = cheaper;
          metrics.downgrade(holds.get(i).scope());
        }
      }
    }
    return Admission.admitted(holds, downgradeTo, request.estimatedTokens(), costMicros);
  }

  /**
   * Replaces the admission's reservations with the actual usage: budgets release the estimate and
   * add the actual cost (rounded up to the micro-dollar), which may cross alert thresholds; the token
   * window is corrected by actual − estimate in the second the request was admitted, if that second
   * is still in the window. Does nothing for a refused or already settled admission. If the store
   * fails, the error is counted and the reservation stays until the period ends.
   */
  public void settle(Admission admission, long actualTokens, BigDecimal actualCostUsd) {
    requireNonNull(admission, "admission");
    if (actualTokens < 0) {
      throw new IllegalArgumentException("actualTokens: " + actualTokens + " (expected: >= 0)");
    }
    Usd.requireAmount("actualCostUsd", actualCostUsd);
    if (!admission.holds().isEmpty() && admission.markSettled()) {
      apply(admission.holds(), actualTokens, Usd.ceilMicros(actualCostUsd));
    }
  }

  /**
   * Settles an admission whose actual usage will never be known (the upstream stream broke, the
   * client went away) with its estimate, so spend is never silently dropped. Idempotent like
   * {@link #settle}, and exclusive with it: whichever is called first counts.
   */
  public void settleWithEstimate(Admission admission) {
    requireNonNull(admission, "admission");
    if (!admission.holds().isEmpty() && admission.markSettled()) {
      apply(admission.holds(), admission.estimatedTokens(), admission.estimatedMicros());
    }
  }

  private void addBudgets(
      ScopeKind scope,
      @Nullable String id,
      boolean known,
      Instant now,
      long costMicros,
      List<Hold> holds,
      List<Charge> charges) {
    Map<Period, Map<String, CompiledBudget>> byPeriod = budgets.get(scope);
    if (id == null || byPeriod == null) {
      return;
    }
    for (Period period : PERIODS) {
      Map<String, CompiledBudget> byId = byPeriod.get(period);
      CompiledBudget budget =
          byId == null ? null : byId.getOrDefault(id, byId.get(BudgetRule.EVERY));
      if (budget == null) {
        continue;
      }
      LocalDate start = period.startDate(now);
      String key = Keys.budget(scope, period, start, id);
      boolean named = known || !budget.rule().id().equals(BudgetRule.EVERY);
      holds.add(new Hold(
          Counter.BUDGET, key, costMicros, now.getEpochSecond(), scope, id, budget, start, named));
      charges.add(new Charge(
          key,
          false,
          budget.limitMicros(),
          costMicros,
          budget.rule().downgradeTo() == null,
          ttlMillis(now, period, start),
          named));
    }
  }

  private void addRates(
      ScopeKind scope,
      @Nullable String id,
      boolean known,
      long second,
      long tokens,
      List<Hold> holds,
      List<Charge> charges) {
    Map<String, RateRule> byId = rates.get(scope);
    RateRule rule =
        id == null || byId == null ? null : byId.getOrDefault(id, byId.get(BudgetRule.EVERY));
    if (id == null || rule == null) {
      return;
    }
    boolean named = known || !rule.id().equals(BudgetRule.EVERY);
    if (rule.tokensPerMinute() > 0) {
      String key = Keys.tokens(scope, id);
      holds.add(new Hold(Counter.TOKENS, key, tokens, second, scope, id, null, null, named));
      charges.add(new Charge(key, true, rule.tokensPerMinute(), tokens, true, 0, named));
    }
    if (rule.requestsPerMinute() > 0) {
      String key = Keys.requests(scope, id);
      holds.add(new Hold(Counter.REQUESTS, key, 1, second, scope, id, null, null, named));
      charges.add(new Charge(key, true, rule.requestsPerMinute(), 1, true, 0, named));
    }
  }

  private static long ttlMillis(Instant now, Period period, LocalDate start) {
    return Duration.between(now, period.end(start).plus(PERIOD_GRACE)).toMillis();
  }

  private static Rejection rejection(
      Hold hold, Charge charge, Reservation reservation, Instant now) {
    long limit = charge.limit();
    long amount = charge.amount();
    long remaining = Math.max(0, limit - reservation.used()[reservation.failed()]);
    String who = hold.scope().describe(hold.scopeId());
    if (hold.counter() == Counter.BUDGET) {
      Period period = hold.budgetOfBudgetHold().rule().period();
      Instant resetAt = period.end(hold.periodStartOfBudgetHold());
      String message = amount > limit
          ? "Budget exceeded: this request is estimated at " + Usd.format(amount)
              + ", more than the whole " + period.configName() + " budget of " + Usd.format(limit)
              + " of " + who + ". The budget resets at " + resetAt + "."
          : "Budget exceeded: " + who + " has " + Usd.format(remaining) + " left of its "
              + period.configName() + " budget of "
              + Usd.format(limit) + ", and this request is estimated at " + Usd.format(amount)
              + ". The budget resets at "
              + resetAt + ".";
      return new Rejection(
          Rejection.Kind.BUDGET,
          hold.scope(),
          hold.scopeId(),
          Usd.fromMicros(limit),
          Usd.fromMicros(remaining),
          resetAt,
          until(now, resetAt),
          message);
    }
    Instant resetAt = Instant.ofEpochSecond(reservation.retrySecond());
    Duration retryAfter = until(now, resetAt);
    String retry = "Retry in "
        + Math.max(1, retryAfter.toSeconds() + (retryAfter.toNanosPart() > 0 ? 1 : 0)) + " s.";
    if (hold.counter() == Counter.TOKENS) {
      String message = amount > limit
          ? "Rate limit: this request needs an estimated " + amount + " tokens, but " + who
              + " may use at most " + limit
              + " tokens per minute. Reduce the prompt or the maximum output tokens."
          : "Rate limit: " + who + " may use " + limit + " tokens per minute; " + remaining
              + " are left and this request needs an estimated " + amount + ". " + retry;
      return new Rejection(
          Rejection.Kind.TOKENS_PER_MINUTE,
          hold.scope(),
          hold.scopeId(),
          BigDecimal.valueOf(limit),
          BigDecimal.valueOf(remaining),
          resetAt,
          retryAfter,
          message);
    }
    return new Rejection(
        Rejection.Kind.REQUESTS_PER_MINUTE,
        hold.scope(),
        hold.scopeId(),
        BigDecimal.valueOf(limit),
        BigDecimal.valueOf(remaining),
        resetAt,
        retryAfter,
        "Rate limit: " + who + " may send " + limit + " requests per minute. " + retry);
  }

  private static Duration until(Instant now, Instant then) {
    return now.isBefore(then) ? Duration.between(now, then) : Duration.ZERO;
  }

  /** Fail closed if any applicable limit says so; otherwise admit with nothing reserved. */
  private Admission storeUnavailable(
      LimitRequest request, List<Hold> holds, long costMicros, Instant now, RuntimeException e) {
    metrics.storeError("reserve");
    logStoreError("reserve", e, now);
    for (Hold hold : holds) {
      StoreFailureMode mode = hold.counter() == Counter.BUDGET
          ? config.budgetStoreFailure()
          : config.rateStoreFailure();
      if (mode == StoreFailureMode.FAIL_CLOSED) {
        Rejection rejection = new Rejection(
            Rejection.Kind.LIMITS_UNAVAILABLE,
            hold.scope(),
            hold.scopeId(),
            BigDecimal.ZERO,
            BigDecimal.ZERO,
            now.plus(UNAVAILABLE_RETRY),
            UNAVAILABLE_RETRY,
            "The limits of " + hold.scope().describe(hold.scopeId())
                + " cannot be checked right now, and requests are not "
                + "forwarded unchecked. Retry in " + UNAVAILABLE_RETRY.toSeconds() + " s.");
        metrics.rejection(rejection.kind(), rejection.scopeKind());
        return Admission.rejected(rejection);
      }
    }
    List<Hold> unreserved = new ArrayList<>(holds.size());
    for (Hold hold : holds) {
      unreserved.add(hold.unreserved());
    }
    return Admission.admitted(unreserved, null, request.estimatedTokens(), costMicros);
  }

  private void apply(List<Hold> holds, long tokens, long costMicros) {
    Instant now = clock.instant();
    List<Settlement> settlements = new ArrayList<>(holds.size());
    List<Hold> settled = new ArrayList<>(holds.size());
    for (Hold h : holds) {
      Settlement s = switch (h.counter()) {
        case BUDGET ->
          h.reserved() == 0 && costMicros == 0
              ? null
              : new Settlement(
                  h.key(),
                  false,
                  h.reserved(),
                  costMicros,
                  h.second(),
                  ttlMillis(
                      now, h.budgetOfBudgetHold().rule().period(), h.periodStartOfBudgetHold()),
                  h.known());
        case TOKENS ->
          h.reserved() == tokens
              ? null
              : new Settlement(h.key(), true, h.reserved(), tokens, h.second(), 0, h.known());
        case REQUESTS ->
          h.reserved() == 1
              ? null
              : new Settlement(h.key(), true, h.reserved(), 1, h.second(), 0, h.known());
      };
      if (s != null) {
        settlements.add(s);
        settled.add(h);
      }
    }
    if (settlements.isEmpty()) {
      return;
    }
    long[] spent;
    try {
      spent = store.settle(settlements, now.getEpochSecond());
    } catch (RuntimeException e) {
      metrics.storeError("settle");
      logStoreError("settle", e, now);
      return;
    }
    for (int i = 0; i < spent.length; i++) {
      if (spent[i] >= 0 && settled.get(i).counter() == Counter.BUDGET) {
        alerts(settled.get(i), spent[i] - costMicros, spent[i]);
      }
    }
  }

  /**
   * Fires each threshold the settled spend crossed with this settlement. Spend only grows within a
   * period and settling is atomic, so exactly one settlement crosses each threshold per period, on
   * whichever replica made it.
   */
  private void alerts(Hold hold, long before, long after) {
    CompiledBudget budget = hold.budgetOfBudgetHold();
    long[] at = budget.thresholdMicros();
    for (int k = 0; k < at.length; k++) {
      if (before < at[k] && at[k] <= after) {
        metrics.alert(hold.scope(), budget.thresholdTags()[k]);
        log.warn(
            "budget alert: {} crossed {}% of its {} budget: {} spent of {} in the period starting {}",
            hold.scope().describe(hold.scopeId()),
            budget
                .rule()
                .alertThresholds()
                .get(k)
                .movePointRight(2)
                .stripTrailingZeros()
                .toPlainString(),
            budget.rule().period().configName(),
            Usd.format(after),
            Usd.format(budget.limitMicros()),
            hold.periodStart());
      }
    }
  }

  /** At most one line every ten seconds: an outage must not flood the log with one line per request. */
  private void logStoreError(String operation, RuntimeException e, Instant now) {
    long t = now.toEpochMilli();
    long next = nextStoreErrorLog.get();
    if (t >= next && nextStoreErrorLog.compareAndSet(next, t + STORE_ERROR_LOG_INTERVAL_MILLIS)) {
      log.warn(
          "limit store failed to {}: {}; budgets {}, rate limits {} (every failure counts in {}; this line at most every {} s)",
          operation,
          e.toString(),
          config.budgetStoreFailure().configName(),
          config.rateStoreFailure().configName(),
          LimitsMetrics.STORE_ERRORS,
          STORE_ERROR_LOG_INTERVAL_MILLIS / 1000);
    }
  }

  /** Builds {@link Limits}; store and meter registry are required. */
  public static final class Builder {
    private @Nullable LimitStore store;
    private Clock clock = Clock.systemUTC();
    private @Nullable MeterRegistry registry;
    private LimitsConfig config = LimitsConfig.NONE;

    private Builder() {}

    /** Where counters live; not closed by {@code Limits}. */
    public Builder store(LimitStore store) {
      this.store = requireNonNull(store, "store");
      return this;
    }

    /** Decides periods and window seconds; default the system clock in UTC. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = requireNonNull(registry, "registry");
      return this;
    }

    /** The rules; default none. */
    public Builder config(LimitsConfig config) {
      this.config = requireNonNull(config, "config");
      return this;
    }

    public Limits build() {
      return new Limits(this);
    }
  }
}
