package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/** What admission does when Redis is down: per {@code on_store_error}, always counted in the error metric. */
class RedisLimitStoreFailureTest {

  static final String TENANT = "acme";

  final MutableClock clock = new MutableClock(Instant.parse("2026-03-14T10:00:00Z"));
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  RedisServer server;
  RedisLimitStore store;

  @BeforeEach
  void startRedis() {
    server = RedisServer.start(RedisServerExtension.requireBinary());
    store = RedisLimitStore.connect(server.host(), server.port(), Duration.ofSeconds(2), 4);
  }

  @AfterEach
  void stopRedis() {
    if (store != null) {
      store.close();
    }
    if (server != null) {
      server.close();
    }
  }

  Limits limits(LimitsConfig config) {
    return Limits.builder()
        .store(store)
        .clock(clock)
        .meterRegistry(registry)
        .config(config)
        .build();
  }

  static LimitRequest request(String cost) {
    return new LimitRequest(null, TENANT, "gpt-4o", 100, new BigDecimal(cost));
  }

  static BudgetRule budget() {
    return BudgetRule.of(ScopeKind.TENANT, TENANT, Period.DAILY, BigDecimal.TEN);
  }

  static RateRule rate() {
    return new RateRule(ScopeKind.TENANT, TENANT, 1000, 10);
  }

  double count(String name, String... tags) {
    Counter counter = registry.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void budgetsFailClosedByDefaultWhenRedisIsDown() {
    Limits limits = limits(new LimitsConfig(List.of(budget()), List.of(rate())));
    assertThat(limits.admit(request("1")).admitted()).isTrue();

    server.kill();
    Admission a = limits.admit(request("1"));

    Rejection r = a.rejection().orElseThrow();
    assertThat(r.kind()).isEqualTo(Rejection.Kind.LIMITS_UNAVAILABLE);
    assertThat(r.scopeKind()).isEqualTo(ScopeKind.TENANT);
    assertThat(r.retryAfter()).isEqualTo(Limits.UNAVAILABLE_RETRY);
    assertThat(r.message())
        .isEqualTo("The limits of tenant 'acme' cannot be checked right now, and requests are not "
            + "forwarded unchecked. Retry in 1 s.");
    assertThat(count(LimitsMetrics.STORE_ERRORS, "operation", "reserve")).isEqualTo(1);
    assertThat(
            count(LimitsMetrics.REJECTIONS, "kind", "limits_unavailable", "scope_kind", "tenant"))
        .isEqualTo(1);
  }

  @Test
  void rateLimitsFailOpenByDefaultWhenRedisIsDown() {
    Limits limits = limits(new LimitsConfig(List.of(), List.of(rate())));
    server.kill();

    Admission a = limits.admit(request("1"));
    limits.settle(a, 100, BigDecimal.ONE);

    assertThat(a.admitted()).isTrue();
    assertThat(count(LimitsMetrics.STORE_ERRORS, "operation", "reserve")).isEqualTo(1);
    assertThat(count(LimitsMetrics.STORE_ERRORS, "operation", "settle")).isEqualTo(1);
  }

  @Test
  void rateLimitsCanFailClosed() {
    Limits limits = limits(new LimitsConfig(
        List.of(), List.of(rate()), StoreFailureMode.FAIL_CLOSED, StoreFailureMode.FAIL_CLOSED));
    server.kill();

    assertThat(limits.admit(request("1")).rejection().orElseThrow().kind())
        .isEqualTo(Rejection.Kind.LIMITS_UNAVAILABLE);
  }

  @Test
  void aFailOpenAdmissionRecordsItsActualUsageOnceRedisIsBack() {
    Limits limits = limits(new LimitsConfig(
        List.of(budget()),
        List.of(rate()),
        StoreFailureMode.FAIL_OPEN,
        StoreFailureMode.FAIL_OPEN));
    server.kill();
    Admission a = limits.admit(request("1"));
    assertThat(a.admitted()).isTrue();

    server.restart();
    limits.settle(a, 700, new BigDecimal("9.5"));

    try (Jedis jedis = server.connection()) {
      assertThat(jedis.hget(
              RedisLimitStore.DEFAULT_PREFIX + "budget:tenant:daily:2026-03-14:acme", "spent"))
          .isEqualTo("9500000");
    }
    assertThat(limits.admit(request("0.500001")).rejection().orElseThrow().kind())
        .isEqualTo(Rejection.Kind.BUDGET);
    assertThat(limits
            .admit(new LimitRequest(null, TENANT, "gpt-4o", 301, BigDecimal.ZERO))
            .rejection()
            .orElseThrow()
            .kind())
        .isEqualTo(Rejection.Kind.TOKENS_PER_MINUTE);
  }

  @Test
  void aFailedSettlementIsCountedAndTheReservationStays() {
    Limits limits = limits(new LimitsConfig(List.of(budget()), List.of()));
    Admission a = limits.admit(request("4"));
    Limits unreachable;
    try (RedisLimitStore nowhere =
        RedisLimitStore.connect(server.host(), RedisServer.freePort(), Duration.ofSeconds(2), 1)) {
      unreachable = Limits.builder()
          .store(nowhere)
          .clock(clock)
          .meterRegistry(registry)
          .config(limits.config())
          .build();
      unreachable.settle(a, 0, BigDecimal.ONE);
    }

    assertThat(count(LimitsMetrics.STORE_ERRORS, "operation", "settle")).isEqualTo(1);
    try (Jedis jedis = server.connection()) {
      String key = RedisLimitStore.DEFAULT_PREFIX + "budget:tenant:daily:2026-03-14:acme";
      assertThat(jedis.hget(key, "reserved"))
          .as("the estimate still counts until the period ends")
          .isEqualTo("4000000");
      assertThat(jedis.hget(key, "spent")).isNull();
    }
    limits.settle(a, 0, BigDecimal.ONE);
    assertThat(limits.admit(request("6.000001")).admitted())
        .as("settling again does nothing")
        .isFalse();
  }
}
