package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour of budgets and rate limits, run against every {@link LimitStore}. Time is a
 * {@link MutableClock}; nothing sleeps.
 */
abstract class LimitsBehaviourTest {

  static final Instant START = Instant.parse("2026-03-14T10:00:00Z");
  static final String KEY = "key_0123456789ab";
  static final String TENANT = "acme";
  static final int THREADS = 64;

  final MutableClock clock = new MutableClock(START);
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  LimitStore store;

  /** A new, empty store over the test's clock. */
  abstract LimitStore newStore();

  @BeforeEach
  void openStore() {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  Limits limits(List<BudgetRule> budgets, List<RateRule> rates) {
    return limits(new LimitsConfig(budgets, rates));
  }

  Limits limits(LimitsConfig config) {
    return Limits.builder()
        .store(store)
        .clock(clock)
        .meterRegistry(registry)
        .config(config)
        .build();
  }

  static BudgetRule tenantDaily(String limit) {
    return BudgetRule.of(ScopeKind.TENANT, TENANT, Period.DAILY, usd(limit));
  }

  static LimitRequest spend(String cost) {
    return new LimitRequest(null, TENANT, "gpt-4o", 0, usd(cost));
  }

  static LimitRequest tokens(int tokens) {
    return new LimitRequest(KEY, null, "gpt-4o", tokens, BigDecimal.ZERO);
  }

  static BigDecimal usd(String amount) {
    return new BigDecimal(amount);
  }

  double count(String name, String... tags) {
    Counter counter = registry.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  /** Admits and settles at the estimate. */
  static void spent(Limits limits, String cost) {
    Admission a = limits.admit(spend(cost));
    assertThat(a.admitted()).as("admission of %s", cost).isTrue();
    limits.settle(a, 0, usd(cost));
  }

  // ---- budgets -------------------------------------------------------------------------------

  @Test
  void budgetAdmitsARequestThatReachesTheLimitExactly() {
    Limits limits = limits(List.of(tenantDaily("10.00")), List.of());
    spent(limits, "4.000001");

    Admission last = limits.admit(spend("5.999999"));

    assertThat(last.admitted()).isTrue();
    assertThat(last.rejection()).isEmpty();
    assertThat(last.downgradeTo()).isEmpty();
  }

  @Test
  void budgetRefusesOneMicroDollarOverTheLimitWithWhatRemainsAndWhenItResets() {
    Limits limits = limits(List.of(tenantDaily("10")), List.of());
    spent(limits, "9.5");

    Admission over = limits.admit(spend("0.500001"));

    assertThat(over.admitted()).isFalse();
    Rejection r = over.rejection().orElseThrow();
    assertThat(r.kind()).isEqualTo(Rejection.Kind.BUDGET);
    assertThat(r.scopeKind()).isEqualTo(ScopeKind.TENANT);
    assertThat(r.scopeId()).isEqualTo(TENANT);
    assertThat(r.limit()).isEqualByComparingTo("10");
    assertThat(r.remaining()).isEqualByComparingTo("0.5");
    assertThat(r.resetAt()).isEqualTo(Instant.parse("2026-03-15T00:00:00Z"));
    assertThat(r.retryAfter()).isEqualTo(Duration.ofHours(14));
    assertThat(r.message())
        .isEqualTo(
            "Budget exceeded: tenant 'acme' has $0.50 left of its daily budget of $10.00, "
                + "and this request is estimated at $0.500001. The budget resets at 2026-03-15T00:00:00Z.");
    assertThat(count(LimitsMetrics.REJECTIONS, "kind", "budget", "scope_kind", "tenant"))
        .isEqualTo(1);
    assertThat(limits.admit(spend("0.5")).admitted())
        .as("the refusal reserved nothing")
        .isTrue();
  }

  @Test
  void costsAreRoundedUpToTheMicroDollar() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());

    assertThat(limits.admit(spend("0.9999991")).admitted()).isTrue();
    assertThat(limits.admit(spend("0.0000001")).rejection().orElseThrow().remaining())
        .isEqualByComparingTo("0");
  }

  @Test
  void dailyBudgetResetsAtMidnightUtc() {
    clock.set(Instant.parse("2026-03-14T23:59:59.999Z"));
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    spent(limits, "1");
    assertThat(limits.admit(spend("0.000001")).rejection().orElseThrow().retryAfter())
        .isEqualTo(Duration.ofMillis(1));

    clock.set(Instant.parse("2026-03-15T00:00:00Z"));

    assertThat(limits.admit(spend("1")).admitted()).isTrue();
  }

  @Test
  void monthlyBudgetRunsToTheLastMomentOfTheMonthUtc() {
    clock.set(Instant.parse("2026-01-01T00:00:00Z"));
    Limits limits = limits(
        List.of(BudgetRule.of(ScopeKind.TENANT, TENANT, Period.MONTHLY, usd("100"))), List.of());
    spent(limits, "60");
    clock.set(Instant.parse("2026-01-31T23:59:59.999Z"));
    spent(limits, "40");

    Rejection r = limits.admit(spend("0.01")).rejection().orElseThrow();
    assertThat(r.resetAt()).isEqualTo(Instant.parse("2026-02-01T00:00:00Z"));
    assertThat(r.remaining()).isEqualByComparingTo("0");

    clock.advance(Duration.ofMillis(1));
    assertThat(limits.admit(spend("100")).admitted()).isTrue();
  }

  @Test
  void monthlyBudgetOfALeapFebruaryResetsOnTheFirstOfMarch() {
    clock.set(Instant.parse("2028-02-29T12:00:00Z"));
    Limits limits = limits(
        List.of(BudgetRule.of(ScopeKind.TENANT, TENANT, Period.MONTHLY, usd("1"))), List.of());
    spent(limits, "1");

    assertThat(limits.admit(spend("1")).rejection().orElseThrow().resetAt())
        .isEqualTo(Instant.parse("2028-03-01T00:00:00Z"));
  }

  @Test
  void reservationsOfRequestsInFlightCountAgainstTheBudget() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    Admission inFlight = limits.admit(spend("0.6"));
    assertThat(inFlight.admitted()).isTrue();

    Rejection r = limits.admit(spend("0.5")).rejection().orElseThrow();

    assertThat(r.remaining()).isEqualByComparingTo("0.4");
  }

  @Test
  void settlingBelowTheEstimateFreesTheDifference() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    Admission a = limits.admit(spend("1"));
    limits.settle(a, 0, usd("0.3"));

    assertThat(limits.admit(spend("0.7")).admitted()).isTrue();
    assertThat(limits.admit(spend("0.000001")).admitted()).isFalse();
  }

  @Test
  void settlingAboveTheEstimateRecordsTheActualCost() {
    Limits limits = limits(List.of(tenantDaily("2")), List.of());
    Admission a = limits.admit(spend("0.2"));
    limits.settle(a, 0, usd("1.5"));

    assertThat(limits.admit(spend("0.500001")).rejection().orElseThrow().remaining())
        .isEqualByComparingTo("0.5");
    assertThat(limits.admit(spend("0.5")).admitted()).isTrue();
  }

  @Test
  void settlingTwiceCountsOnce() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    Admission a = limits.admit(spend("0.5"));

    limits.settle(a, 0, usd("0.5"));
    limits.settle(a, 0, usd("0.5"));
    limits.settleWithEstimate(a);

    assertThat(limits.admit(spend("0.5")).admitted()).isTrue();
  }

  @Test
  void aResponseThatNeverCameIsSettledWithTheEstimate() {
    BudgetRule rule =
        new BudgetRule(ScopeKind.TENANT, TENANT, Period.DAILY, usd("1"), List.of(usd("0.4")), null);
    Limits limits = limits(List.of(rule), List.of());
    Admission a = limits.admit(spend("0.4"));

    limits.settleWithEstimate(a);
    limits.settle(a, 0, BigDecimal.ZERO);

    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.4"))
        .as("0.4 became settled spend")
        .isEqualTo(1);
    assertThat(limits.admit(spend("0.6")).admitted()).isTrue();
    assertThat(limits.admit(spend("0.000001")).admitted()).isFalse();
  }

  @Test
  void settlingARefusedAdmissionDoesNothing() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    Admission refused = limits.admit(spend("2"));
    assertThat(refused.rejection().orElseThrow().message())
        .contains("more than the whole daily budget of $1.00");

    limits.settle(refused, 100, usd("2"));

    assertThat(limits.admit(spend("1")).admitted()).isTrue();
  }

  @Test
  void spendCountsInThePeriodTheRequestWasAdmittedIn() {
    clock.set(Instant.parse("2026-03-14T23:59:59Z"));
    BudgetRule rule = new BudgetRule(
        ScopeKind.TENANT, TENANT, Period.DAILY, usd("10"), List.of(usd("0.5")), null);
    Limits limits = limits(List.of(rule), List.of());
    Admission lateEvening = limits.admit(spend("5"));

    clock.set(Instant.parse("2026-03-15T00:05:00Z"));
    limits.settle(lateEvening, 0, usd("5"));

    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.5"))
        .as("half of the 14th's budget")
        .isEqualTo(1);
    assertThat(limits.admit(spend("10")).admitted()).as("the 15th is untouched").isTrue();
  }

  @Test
  void keyAndTenantBudgetsAreBothEnforcedAndARefusalReservesNothing() {
    Limits limits = limits(
        List.of(
            BudgetRule.of(ScopeKind.API_KEY, KEY, Period.DAILY, usd("10")),
            BudgetRule.of(ScopeKind.TENANT, TENANT, Period.MONTHLY, usd("1"))),
        List.of());

    Rejection r = limits
        .admit(new LimitRequest(KEY, TENANT, "gpt-4o", 0, usd("2")))
        .rejection()
        .orElseThrow();

    assertThat(r.scopeKind()).isEqualTo(ScopeKind.TENANT);
    assertThat(limits.admit(new LimitRequest(KEY, null, "gpt-4o", 0, usd("10"))).admitted())
        .as("the key's budget was not charged by the refused request")
        .isTrue();
    assertThat(limits
            .admit(new LimitRequest(KEY, "other", "gpt-4o", 0, usd("0.000001")))
            .rejection()
            .orElseThrow()
            .scopeKind())
        .isEqualTo(ScopeKind.API_KEY);
  }

  @Test
  void everyKeyRuleGivesEachKeyItsOwnBudgetAndANamedRuleReplacesIt() {
    Limits limits = limits(
        List.of(
            BudgetRule.of(ScopeKind.API_KEY, BudgetRule.EVERY, Period.DAILY, usd("1")),
            BudgetRule.of(ScopeKind.API_KEY, "key_big", Period.DAILY, usd("100"))),
        List.of());

    assertThat(limits.admit(new LimitRequest("key_a", null, "m", 0, usd("1"))).admitted())
        .isTrue();
    assertThat(limits.admit(new LimitRequest("key_b", null, "m", 0, usd("1"))).admitted())
        .isTrue();
    assertThat(
            limits.admit(new LimitRequest("key_a", null, "m", 0, usd("0.01"))).admitted())
        .isFalse();
    assertThat(
            limits.admit(new LimitRequest("key_big", null, "m", 0, usd("50"))).admitted())
        .isTrue();
  }

  @Test
  void requestsWithoutTheScopesOfAnyRuleAreNotLimited() {
    Limits limits =
        limits(List.of(tenantDaily("0")), List.of(new RateRule(ScopeKind.TENANT, TENANT, 1, 1)));

    Admission a = limits.admit(new LimitRequest(KEY, null, "gpt-4o", 1_000_000, usd("1000")));

    assertThat(a.admitted()).isTrue();
    limits.settle(a, 5, usd("1"));
  }

  @Test
  void downgradeBudgetAdmitsWithTheCheaperModelAndStillCountsSpend() {
    BudgetRule rule = new BudgetRule(
        ScopeKind.TENANT, TENANT, Period.DAILY, usd("1"), List.of(usd("1.1")), "gpt-4o-mini");
    Limits limits = limits(List.of(rule), List.of());
    spent(limits, "1");

    Admission a = limits.admit(spend("0.5"));

    assertThat(a.admitted()).isTrue();
    assertThat(a.downgradeTo()).contains("gpt-4o-mini");
    assertThat(count(LimitsMetrics.DOWNGRADES, "scope_kind", "tenant")).isEqualTo(1);
    limits.settle(a, 0, usd("0.1"));
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "1.1"))
        .as("spend past the limit is counted")
        .isEqualTo(1);
  }

  @Test
  void requestAlreadyOnTheDowngradeModelIsAdmittedAsItIs() {
    BudgetRule rule =
        new BudgetRule(ScopeKind.TENANT, TENANT, Period.DAILY, usd("1"), List.of(), "gpt-4o-mini");
    Limits limits = limits(List.of(rule), List.of());
    spent(limits, "1");

    Admission a = limits.admit(new LimitRequest(null, TENANT, "gpt-4o-mini", 0, usd("0.5")));

    assertThat(a.admitted()).isTrue();
    assertThat(a.downgradeTo()).isEmpty();
  }

  @Test
  void hardBudgetRefusesEvenWhenADowngradeBudgetWouldAdmit() {
    Limits limits = limits(
        List.of(
            new BudgetRule(
                ScopeKind.API_KEY, KEY, Period.DAILY, usd("1"), List.of(), "gpt-4o-mini"),
            tenantDaily("2")),
        List.of());
    LimitRequest request = new LimitRequest(KEY, TENANT, "gpt-4o", 0, usd("1.5"));
    Admission first = limits.admit(request);
    assertThat(first.downgradeTo()).contains("gpt-4o-mini");

    assertThat(limits.admit(request).rejection().orElseThrow().scopeKind())
        .isEqualTo(ScopeKind.TENANT);
  }

  @Test
  void alertsFireOncePerThresholdPerPeriod() {
    BudgetRule rule = new BudgetRule(
        ScopeKind.TENANT,
        TENANT,
        Period.DAILY,
        usd("10"),
        List.of(usd("0.9"), usd("0.5"), usd("0.8")),
        null);
    Limits limits = limits(List.of(rule), List.of());

    spent(limits, "4.999999");
    assertThat(count(LimitsMetrics.BUDGET_ALERTS)).isZero();
    spent(limits, "0.000001");
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "scope_kind", "tenant", "threshold", "0.5"))
        .isEqualTo(1);
    spent(limits, "4");
    spent(limits, "0.5");
    spent(limits, "0.5");

    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.5")).isEqualTo(1);
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.8")).isEqualTo(1);
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.9")).isEqualTo(1);

    clock.advance(Duration.ofDays(1));
    spent(limits, "9");
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.5")).isEqualTo(2);
    assertThat(count(LimitsMetrics.BUDGET_ALERTS, "threshold", "0.9")).isEqualTo(2);
  }

  // ---- rate limits ---------------------------------------------------------------------------

  Limits perMinute(long tokens, long requests) {
    return limits(List.of(), List.of(new RateRule(ScopeKind.API_KEY, KEY, tokens, requests)));
  }

  @Test
  void tokensPerMinuteAdmitUpToTheLimitAndRefuseBeyondIt() {
    Limits limits = perMinute(1000, 0);
    assertThat(limits.admit(tokens(600)).admitted()).isTrue();
    assertThat(limits.admit(tokens(400)).admitted()).isTrue();

    Rejection r = limits.admit(tokens(1)).rejection().orElseThrow();

    assertThat(r.kind()).isEqualTo(Rejection.Kind.TOKENS_PER_MINUTE);
    assertThat(r.scopeKind()).isEqualTo(ScopeKind.API_KEY);
    assertThat(r.scopeId()).isEqualTo(KEY);
    assertThat(r.limit()).isEqualByComparingTo("1000");
    assertThat(r.remaining()).isEqualByComparingTo("0");
    assertThat(r.resetAt()).isEqualTo(START.plusSeconds(60));
    assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(60));
    assertThat(r.message())
        .isEqualTo(
            "Rate limit: API key key_0123456789ab may use 1000 tokens per minute; 0 are left "
                + "and this request needs an estimated 1. Retry in 60 s.");
    assertThat(
            count(LimitsMetrics.REJECTIONS, "kind", "tokens_per_minute", "scope_kind", "api_key"))
        .isEqualTo(1);
  }

  @Test
  void tokensFreeUpAsTheirSecondLeavesTheWindow() {
    Limits limits = perMinute(1000, 0);
    clock.set(START.plusMillis(500));
    limits.admit(tokens(300));
    clock.set(START.plusSeconds(10));
    limits.admit(tokens(700));
    clock.set(START.plusSeconds(30));

    Rejection r = limits.admit(tokens(300)).rejection().orElseThrow();
    assertThat(r.remaining()).isEqualByComparingTo("0");
    assertThat(r.resetAt()).isEqualTo(START.plusSeconds(60));
    assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(30));

    clock.set(START.plusSeconds(60).minusMillis(1));
    assertThat(limits.admit(tokens(1)).admitted()).isFalse();
    clock.set(START.plusSeconds(60));
    assertThat(limits.admit(tokens(300)).admitted()).isTrue();
    assertThat(limits.admit(tokens(1)).rejection().orElseThrow().resetAt())
        .isEqualTo(START.plusSeconds(70));
  }

  @Test
  void requestsPerMinuteAdmitUpToTheLimitAndAgainAfterAMinute() {
    Limits limits = perMinute(0, 3);
    for (int i = 0; i < 3; i++) {
      limits.settle(limits.admit(tokens(10)), 10, BigDecimal.ZERO);
    }

    Rejection r = limits.admit(tokens(10)).rejection().orElseThrow();
    assertThat(r.kind()).isEqualTo(Rejection.Kind.REQUESTS_PER_MINUTE);
    assertThat(r.limit()).isEqualByComparingTo("3");
    assertThat(r.remaining()).isEqualByComparingTo("0");
    assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(60));
    assertThat(r.message())
        .isEqualTo(
            "Rate limit: API key key_0123456789ab may send 3 requests per minute. Retry in 60 s.");

    clock.advance(Duration.ofSeconds(60));
    assertThat(limits.admit(tokens(10)).admitted()).isTrue();
  }

  @Test
  void tokenCountsAreCorrectedWithTheActualUsage() {
    Limits limits = perMinute(1000, 0);
    Admission high = limits.admit(tokens(800));
    clock.advance(Duration.ofSeconds(5));
    limits.settle(high, 200, BigDecimal.ZERO);
    assertThat(limits.admit(tokens(800)).admitted()).as("600 were freed").isTrue();
    assertThat(limits.admit(tokens(1)).admitted()).isFalse();

    clock.advance(Duration.ofSeconds(60));
    Admission low = limits.admit(tokens(100));
    limits.settle(low, 900, BigDecimal.ZERO);
    assertThat(limits.admit(tokens(101)).rejection().orElseThrow().remaining())
        .isEqualByComparingTo("100");
    assertThat(limits.admit(tokens(100)).admitted()).isTrue();
  }

  @Test
  void aCorrectionAfterItsSecondLeftTheWindowChangesNothing() {
    Limits limits = perMinute(1000, 0);
    Admission old = limits.admit(tokens(1000));
    clock.advance(Duration.ofSeconds(61));

    limits.settle(old, 10, BigDecimal.ZERO);

    assertThat(limits.admit(tokens(1000)).admitted()).isTrue();
    assertThat(limits.admit(tokens(1)).admitted())
        .as("the -990 did not leak into the current window")
        .isFalse();
  }

  @Test
  void requestLargerThanTheTokenLimitIsRefusedWithTheReason() {
    Limits limits = perMinute(1000, 0);

    Rejection r = limits.admit(tokens(1001)).rejection().orElseThrow();

    assertThat(r.remaining()).isEqualByComparingTo("1000");
    assertThat(r.message())
        .isEqualTo(
            "Rate limit: this request needs an estimated 1001 tokens, but API key key_0123456789ab "
                + "may use at most 1000 tokens per minute. Reduce the prompt or the maximum output tokens.");
  }

  @Test
  void tenantRateLimitIsSharedByItsKeys() {
    Limits limits =
        limits(List.of(), List.of(new RateRule(ScopeKind.TENANT, BudgetRule.EVERY, 100, 0)));

    assertThat(limits
            .admit(new LimitRequest("key_a", TENANT, "m", 60, BigDecimal.ZERO))
            .admitted())
        .isTrue();
    Rejection r = limits
        .admit(new LimitRequest("key_b", TENANT, "m", 60, BigDecimal.ZERO))
        .rejection()
        .orElseThrow();

    assertThat(r.scopeKind()).isEqualTo(ScopeKind.TENANT);
    assertThat(r.message())
        .startsWith("Rate limit: tenant 'acme' may use 100 tokens per minute; 40 are left");
    assertThat(limits
            .admit(new LimitRequest("key_b", "other", "m", 60, BigDecimal.ZERO))
            .admitted())
        .isTrue();
  }

  // ---- concurrency ---------------------------------------------------------------------------

  /** Runs {@code task(thread)} on {@value #THREADS} threads started together; returns their results. */
  static <T> List<T> concurrently(int threads, IntFunction<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          go.await();
          return task.apply(thread);
        }));
      }
      go.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get(2, TimeUnit.MINUTES));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Spend plus reservations of the tenant's daily budget, read through the store. */
  long budgetUsedMicros() {
    String key = Keys.budget(
        ScopeKind.TENANT, Period.DAILY, Period.DAILY.startDate(clock.instant()), TENANT);
    return store.reserve(
            List.of(new Charge(key, false, Long.MAX_VALUE, 0, true, 86_400_000, true)),
            clock.instant().getEpochSecond())
        .used()[0];
  }

  @Test
  void concurrentRequestsNeverReserveMoreThanTheBudget() throws Exception {
    long limitMicros = 100_000_000;
    long maxEstimate = 50_000;
    Limits limits = limits(List.of(tenantDaily("100")), List.of());

    List<long[]> perThread = concurrently(THREADS, thread -> {
      SplittableRandom random = new SplittableRandom(thread);
      long admitted = 0;
      long refused = 0;
      for (int i = 0; i < 100; i++) {
        long estimate = random.nextLong(1, maxEstimate + 1);
        if (limits.admit(spend(Usd.fromMicros(estimate).toPlainString())).admitted()) {
          admitted += estimate;
        } else {
          refused++;
        }
      }
      return new long[] {admitted, refused};
    });

    long admitted = perThread.stream().mapToLong(r -> r[0]).sum();
    long refused = perThread.stream().mapToLong(r -> r[1]).sum();
    assertThat(refused).as("the budget was exhausted").isPositive();
    assertThat(admitted).isLessThanOrEqualTo(limitMicros).isGreaterThan(limitMicros - maxEstimate);
    assertThat(budgetUsedMicros()).as("no reservation was lost").isEqualTo(admitted);
  }

  @Test
  void concurrentOverspendIsBoundedByTheOverrunsOfRequestsInFlight() throws Exception {
    long limitMicros = 50_000_000;
    Limits limits = limits(List.of(tenantDaily("50")), List.of());

    List<List<long[]>> perThread = concurrently(THREADS, thread -> {
      SplittableRandom random = new SplittableRandom(1000 + thread);
      List<long[]> settled = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        long estimate = random.nextLong(1_000, 20_001);
        long actual = estimate * random.nextLong(50, 151) / 100;
        Admission a = limits.admit(spend(Usd.fromMicros(estimate).toPlainString()));
        if (a.admitted()) {
          limits.settle(a, 0, Usd.fromMicros(actual));
          settled.add(new long[] {estimate, actual});
        }
      }
      return settled;
    });

    List<long[]> all = perThread.stream().flatMap(List::stream).toList();
    long spent = all.stream().mapToLong(s -> s[1]).sum();
    List<Long> overruns =
        new ArrayList<>(all.stream().map(s -> Math.max(0, s[1] - s[0])).toList());
    overruns.sort(Collections.reverseOrder());
    long worstInFlight =
        overruns.stream().limit(THREADS).mapToLong(Long::longValue).sum();
    assertThat(budgetUsedMicros())
        .as("every settlement was recorded, no reservation left")
        .isEqualTo(spent);
    assertThat(spent)
        .as("at most %s requests were in flight at any time", THREADS)
        .isLessThanOrEqualTo(limitMicros + worstInFlight);
    assertThat(limits.admit(spend("0.04")).admitted())
        .as("the budget is used up")
        .isFalse();
  }

  @Test
  void concurrentRequestsNeverReserveMoreTokensThanTheLimit() throws Exception {
    Limits limits = perMinute(1_000_000, 0);
    AtomicLong admitted = new AtomicLong();

    concurrently(THREADS, thread -> {
      SplittableRandom random = new SplittableRandom(thread);
      for (int i = 0; i < 100; i++) {
        int estimate = random.nextInt(1, 501);
        if (limits.admit(tokens(estimate)).admitted()) {
          admitted.addAndGet(estimate);
        }
      }
      return null;
    });

    assertThat(admitted.get()).isLessThanOrEqualTo(1_000_000).isGreaterThan(1_000_000 - 500);
    String key = Keys.tokens(ScopeKind.API_KEY, KEY);
    long used = store.reserve(
            List.of(new Charge(key, true, Long.MAX_VALUE, 0, true, 0, true)),
            clock.instant().getEpochSecond())
        .used()[0];
    assertThat(used).as("no reservation was lost").isEqualTo(admitted.get());
  }
}
