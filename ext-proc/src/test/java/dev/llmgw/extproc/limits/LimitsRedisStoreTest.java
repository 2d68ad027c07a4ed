package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;

/** The behaviour suite on {@link RedisLimitStore}, against a private redis-server; and how Redis holds the counters. */
class LimitsRedisStoreTest extends LimitsBehaviourTest {

  @RegisterExtension
  static final RedisServerExtension redis = new RedisServerExtension();

  String prefix;

  /** A pooled client with a connection per test thread, as a busy ext-proc would size it. */
  static RedisClient client(RedisServer server) {
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(THREADS);
    pool.setMaxIdle(THREADS);
    return RedisClient.builder()
        .hostAndPort(server.host(), server.port())
        .poolConfig(pool)
        .build();
  }

  @Override
  LimitStore newStore() {
    prefix = "test:" + UUID.randomUUID() + ":";
    return new RedisLimitStore(client(redis.server()), prefix);
  }

  @Test
  void budgetsAreIntegerMicroDollarsKeptUntilADayAfterThePeriod() {
    Limits limits = limits(List.of(tenantDaily("10")), List.of());
    String key = prefix + "budget:tenant:daily:2026-03-14:acme";
    Admission a = limits.admit(spend("1.5000001"));

    try (Jedis jedis = redis.server().connection()) {
      assertThat(jedis.hget(key, "reserved")).isEqualTo("1500001");
      long ttl = Duration.between(START, Instant.parse("2026-03-16T00:00:00Z")).toMillis();
      assertThat(jedis.pttl(key)).isBetween(ttl - 10_000, ttl);

      limits.settle(a, 0, usd("1.25"));

      assertThat(jedis.hget(key, "reserved")).isEqualTo("0");
      assertThat(jedis.hget(key, "spent")).isEqualTo("1250000");
    }
  }

  @Test
  void windowsKeepOnlyTheLastMinuteAndExpireAfterTwoIdleMinutes() {
    Limits limits = perMinute(1000, 10);
    String key = prefix + "rate:api_key:tokens:" + KEY;
    limits.admit(tokens(100));
    clock.advance(Duration.ofSeconds(30));
    limits.admit(tokens(200));
    clock.advance(Duration.ofSeconds(31));
    limits.admit(tokens(300));

    try (Jedis jedis = redis.server().connection()) {
      long now = clock.instant().getEpochSecond();
      assertThat(jedis.hgetAll(key))
          .containsOnlyKeys(Long.toString(now - 31), Long.toString(now))
          .containsEntry(Long.toString(now), "300");
      assertThat(jedis.pttl(key)).isBetween(110_000L, 120_000L);
    }
  }

  @Test
  void scriptsAreSentAgainAfterRedisForgetsThem() {
    Limits limits = limits(List.of(tenantDaily("1")), List.of());
    spent(limits, "0.5");
    try (Jedis jedis = redis.server().connection()) {
      jedis.scriptFlush();
    }

    assertThat(limits.admit(spend("0.5")).admitted()).isTrue();
    assertThat(limits.admit(spend("0.000001")).admitted()).isFalse();
    assertThat(count(LimitsMetrics.STORE_ERRORS)).isZero();
  }
}
