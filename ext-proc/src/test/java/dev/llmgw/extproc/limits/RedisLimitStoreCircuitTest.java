package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Redis store's circuit breaker: a Redis that is away is no longer asked once most recent
 * operations failed, so requests stop paying the timeout each; trial operations after the open
 * period (strictly after it) close it again when Redis is back. Time in the breaker is the test's clock.
 */
class RedisLimitStoreCircuitTest {

  static final String TENANT = "acme";
  static final Duration OPEN_FOR = Duration.ofSeconds(5);

  final MutableClock clock = new MutableClock(Instant.parse("2026-03-14T10:00:00Z"));
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  Limits limits(RedisLimitStore store) {
    return Limits.builder()
        .store(store)
        .clock(clock)
        .meterRegistry(registry)
        .config(new LimitsConfig(
            List.of(BudgetRule.of(ScopeKind.TENANT, TENANT, Period.DAILY, BigDecimal.TEN)),
            List.of()))
        .build();
  }

  static LimitRequest request() {
    return new LimitRequest(null, TENANT, "gpt-4o", 100, new BigDecimal("0.01"));
  }

  double count(String name, String... tags) {
    Counter counter = registry.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  double circuitGauge() {
    Gauge gauge = registry.find(RedisLimitStore.CIRCUIT_STATE).gauge();
    return gauge == null ? -1 : gauge.value();
  }

  @Test
  void aRedisThatStopsAnsweringIsNoLongerAskedOnceTheCircuitOpens() throws Exception {
    SilentServer silent = new SilentServer();
    toClose.add(silent);
    RedisLimitStore store = RedisLimitStore.connect(
            "127.0.0.1",
            silent.port(),
            Duration.ofMillis(150),
            1,
            RedisLimitStore.breakerConfig(clock, OPEN_FOR))
        .bindTo(registry);
    toClose.add(store);
    Limits limits = limits(store);

    for (int i = 0; i < RedisLimitStore.BREAKER_MINIMUM_CALLS; i++) {
      assertThat(limits.admit(request()).rejection().orElseThrow().kind())
          .isEqualTo(Rejection.Kind.LIMITS_UNAVAILABLE);
    }
    assertThat(store.circuitState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(circuitGauge()).isEqualTo(1);
    // The acceptor thread may lag a failed operation's connect by a moment; let it settle first.
    await()
        .pollDelay(Duration.ofMillis(100))
        .atMost(Duration.ofSeconds(5))
        .until(silent::connections, n -> n == silent.connections());
    int reachedRedis = silent.connections();
    assertThat(reachedRedis)
        .as("each failed operation opened a connection that got no answer")
        .isPositive();

    for (int i = 0; i < 50; i++) {
      assertThat(limits.admit(request()).rejection().orElseThrow().kind())
          .as("budgets still fail closed while the circuit is open")
          .isEqualTo(Rejection.Kind.LIMITS_UNAVAILABLE);
    }
    assertThat(silent.connections())
        .as("no operation went to Redis while the circuit was open")
        .isEqualTo(reachedRedis);
    assertThat(count(RedisLimitStore.CIRCUIT_SHORT_CIRCUITED)).isEqualTo(50);
    assertThat(count(LimitsMetrics.STORE_ERRORS, "operation", "reserve"))
        .as("a short-circuited operation is a store error like any other")
        .isEqualTo(RedisLimitStore.BREAKER_MINIMUM_CALLS + 50);

    clock.advance(OPEN_FOR.plusMillis(1));
    limits.admit(request());
    assertThat(silent.connections())
        .as("after the open period a trial operation goes to Redis")
        .isGreaterThan(reachedRedis);
  }

  @Test
  void theCircuitClosesWhenRedisIsBackAndBudgetsAreEnforcedAgain() {
    RedisServer server = RedisServer.start(RedisServerExtension.requireBinary());
    toClose.add(server);
    RedisLimitStore store = RedisLimitStore.connect(
            server.host(),
            server.port(),
            Duration.ofSeconds(2),
            4,
            RedisLimitStore.breakerConfig(clock, OPEN_FOR))
        .bindTo(registry);
    toClose.add(store);
    Limits limits = limits(store);
    assertThat(limits.admit(request()).admitted()).isTrue();

    server.kill();
    for (int i = 0; i < RedisLimitStore.BREAKER_MINIMUM_CALLS; i++) {
      limits.admit(request());
    }
    assertThat(store.circuitState()).isEqualTo(CircuitBreaker.State.OPEN);

    server.restart();
    assertThat(limits.admit(request()).admitted())
        .as("still open: Redis is not asked yet")
        .isFalse();
    clock.advance(OPEN_FOR);
    assertThat(limits.admit(request()).admitted())
        .as("still open at the end of the open period")
        .isFalse();

    clock.advance(Duration.ofMillis(1));
    for (int i = 0; i < RedisLimitStore.BREAKER_TRIAL_CALLS; i++) {
      assertThat(limits.admit(request()).admitted()).as("trial %d", i).isTrue();
    }
    assertThat(store.circuitState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(circuitGauge()).isZero();

    // Redis restarted empty, so the budget counts from what was admitted since: 3 trials of 0.01.
    assertThat(limits
            .admit(new LimitRequest(null, TENANT, "gpt-4o", 100, new BigDecimal("9.97")))
            .admitted())
        .isTrue();
    assertThat(limits.admit(request()).rejection().orElseThrow().kind())
        .isEqualTo(Rejection.Kind.BUDGET);
  }

  @Test
  void aFailedTrialOpensTheCircuitAgain() {
    RedisServer server = RedisServer.start(RedisServerExtension.requireBinary());
    toClose.add(server);
    RedisLimitStore store = RedisLimitStore.connect(
            server.host(),
            server.port(),
            Duration.ofSeconds(2),
            4,
            RedisLimitStore.breakerConfig(clock, OPEN_FOR))
        .bindTo(registry);
    toClose.add(store);
    Limits limits = limits(store);

    server.kill();
    for (int i = 0; i < RedisLimitStore.BREAKER_MINIMUM_CALLS; i++) {
      limits.admit(request());
    }
    clock.advance(OPEN_FOR.plusMillis(1));
    limits.admit(request());
    assertThat(store.circuitState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    for (int i = 1; i < RedisLimitStore.BREAKER_TRIAL_CALLS; i++) {
      limits.admit(request());
    }

    assertThat(store.circuitState()).as("every trial failed").isEqualTo(CircuitBreaker.State.OPEN);
    double shortCircuited = count(RedisLimitStore.CIRCUIT_SHORT_CIRCUITED);
    limits.admit(request());
    assertThat(count(RedisLimitStore.CIRCUIT_SHORT_CIRCUITED)).isEqualTo(shortCircuited + 1);
  }

  /** Accepts connections and never answers, as a Redis that hangs (or a black-holed route) looks to a client. */
  static final class SilentServer implements AutoCloseable {
    private final ServerSocket socket;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    SilentServer() {
      try {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      acceptor = new Thread(
          () -> {
            while (!socket.isClosed()) {
              try {
                open.add(socket.accept());
                accepted.incrementAndGet();
              } catch (IOException closed) {
                return;
              }
            }
          },
          "silent-redis");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    /** Connections accepted so far. Jedis drops a connection whose command timed out, so each failed operation opens one. */
    int connections() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
