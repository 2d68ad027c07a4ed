package dev.llmgw.extproc.limits;

import static dev.llmgw.extproc.limits.LimitsBehaviourTest.concurrently;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Two ext-proc replicas, each with its own {@link Limits}, {@link RedisLimitStore} and connection
 * pool, sharing one redis-server: they enforce one budget and one rate limit between them.
 */
class RedisSharedBudgetTest {

  @RegisterExtension
  static final RedisServerExtension redis = new RedisServerExtension();

  static final String TENANT = "acme";
  static final int THREADS_PER_REPLICA = 32;

  final MutableClock clock = new MutableClock(Instant.parse("2026-03-14T10:00:00Z"));
  final SimpleMeterRegistry registryA = new SimpleMeterRegistry();
  final SimpleMeterRegistry registryB = new SimpleMeterRegistry();
  RedisLimitStore storeA;
  RedisLimitStore storeB;

  @BeforeEach
  void connectReplicas() {
    try (Jedis jedis = redis.server().connection()) {
      jedis.flushAll();
    }
    storeA = RedisLimitStore.connect(
        redis.server().host(), redis.server().port(), Duration.ofSeconds(5), THREADS_PER_REPLICA);
    storeB = RedisLimitStore.connect(
        redis.server().host(), redis.server().port(), Duration.ofSeconds(5), THREADS_PER_REPLICA);
  }

  @AfterEach
  void closeReplicas() {
    if (storeA != null) {
      storeA.close();
    }
    if (storeB != null) {
      storeB.close();
    }
  }

  Limits[] replicas(LimitsConfig config) {
    return new Limits[] {
      Limits.builder()
          .store(storeA)
          .clock(clock)
          .meterRegistry(registryA)
          .config(config)
          .build(),
      Limits.builder()
          .store(storeB)
          .clock(clock)
          .meterRegistry(registryB)
          .config(config)
          .build()
    };
  }

  static LimitRequest request(long costMicros, int tokens) {
    return new LimitRequest(null, TENANT, "gpt-4o", tokens, Usd.fromMicros(costMicros));
  }

  static double alerts(SimpleMeterRegistry registry, String threshold) {
    Counter counter =
        registry.find(LimitsMetrics.BUDGET_ALERTS).tag("threshold", threshold).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void twoReplicasSharingRedisEnforceOneBudget() throws Exception {
    long limitMicros = 10_000_000;
    long maxEstimate = 50_000;
    Limits[] replicas = replicas(new LimitsConfig(
        List.of(BudgetRule.of(ScopeKind.TENANT, TENANT, Period.DAILY, new BigDecimal("10"))),
        List.of()));

    List<long[]> perThread = concurrently(2 * THREADS_PER_REPLICA, thread -> {
      Limits replica = replicas[thread % 2];
      SplittableRandom random = new SplittableRandom(thread);
      long admitted = 0;
      long refused = 0;
      for (int i = 0; i < 60; i++) {
        long estimate = random.nextLong(1, maxEstimate + 1);
        if (replica.admit(request(estimate, 0)).admitted()) {
          admitted += estimate;
        } else {
          refused++;
        }
      }
      return new long[] {thread % 2, admitted, refused};
    });

    long admittedA =
        perThread.stream().filter(r -> r[0] == 0).mapToLong(r -> r[1]).sum();
    long admittedB =
        perThread.stream().filter(r -> r[0] == 1).mapToLong(r -> r[1]).sum();
    assertThat(perThread.stream().mapToLong(r -> r[2]).sum())
        .as("the budget was exhausted")
        .isPositive();
    assertThat(admittedA).as("replica A admitted some").isPositive();
    assertThat(admittedB).as("replica B admitted some").isPositive();
    assertThat(admittedA + admittedB)
        .as("one budget, not one per replica")
        .isLessThanOrEqualTo(limitMicros)
        .isGreaterThan(limitMicros - maxEstimate);
  }

  @Test
  void twoReplicasSettlingConcurrentlyFireEachAlertOnce() throws Exception {
    BudgetRule rule = new BudgetRule(
        ScopeKind.TENANT,
        TENANT,
        Period.DAILY,
        new BigDecimal("5"),
        List.of(
            new BigDecimal("0.5"), new BigDecimal("0.8"), new BigDecimal("0.9"), BigDecimal.ONE),
        null);
    Limits[] replicas = replicas(new LimitsConfig(List.of(rule), List.of()));

    List<Long> spentPerThread = concurrently(2 * THREADS_PER_REPLICA, thread -> {
      Limits replica = replicas[thread % 2];
      SplittableRandom random = new SplittableRandom(500 + thread);
      long spent = 0;
      for (int i = 0; i < 40; i++) {
        long estimate = random.nextLong(1_000, 20_001);
        long actual = estimate * random.nextLong(50, 151) / 100;
        Admission a = replica.admit(request(estimate, 0));
        if (a.admitted()) {
          replica.settle(a, 0, Usd.fromMicros(actual));
          spent += actual;
        }
      }
      return spent;
    });

    long spent = spentPerThread.stream().mapToLong(Long::longValue).sum();
    // Admission stops once what is left is below the next estimate, so whether the spend reaches
    // the
    // whole $5 depends on how the threads interleave: each threshold the spend crossed fires once,
    // on one replica, and one it did not cross never fires.
    assertThat(spent)
        .as("enough was spent to cross the 90 %% threshold")
        .isGreaterThanOrEqualTo(4_500_000);
    for (String threshold : List.of("0.5", "0.8", "0.9", "1")) {
      long crossed = spent
              >= new BigDecimal(threshold)
                  .multiply(BigDecimal.valueOf(5_000_000))
                  .longValue()
          ? 1
          : 0;
      assertThat(alerts(registryA, threshold) + alerts(registryB, threshold))
          .as("alerts at %s", threshold)
          .isEqualTo(crossed);
    }
    try (Jedis jedis = redis.server().connection()) {
      String key = RedisLimitStore.DEFAULT_PREFIX + "budget:tenant:daily:2026-03-14:acme";
      assertThat(jedis.hget(key, "spent")).isEqualTo(Long.toString(spent));
      assertThat(jedis.hget(key, "reserved")).isEqualTo("0");
    }
  }

  @Test
  void twoReplicasSharingRedisEnforceOneTokenRate() throws Exception {
    Limits[] replicas = replicas(
        new LimitsConfig(List.of(), List.of(new RateRule(ScopeKind.TENANT, TENANT, 100_000, 0))));

    List<Long> perThread = concurrently(2 * THREADS_PER_REPLICA, thread -> {
      Limits replica = replicas[thread % 2];
      SplittableRandom random = new SplittableRandom(thread);
      long admitted = 0;
      for (int i = 0; i < 40; i++) {
        int estimate = random.nextInt(1, 2_001);
        if (replica.admit(request(0, estimate)).admitted()) {
          admitted += estimate;
        }
      }
      return admitted;
    });

    assertThat(perThread.stream().mapToLong(Long::longValue).sum())
        .isLessThanOrEqualTo(100_000)
        .isGreaterThan(98_000);
  }
}
