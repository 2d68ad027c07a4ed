package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Counters in Redis, shared by every ext-proc replica, so that replicas enforce one budget rather
 * than one each. Each operation is one EVALSHA of a Lua script ({@link RedisScripts}) over all the
 * counters a request touches: one round trip, atomic across replicas. When Redis has lost the script
 * (restart, SCRIPT FLUSH) it is sent again with EVAL.
 *
 * <p>All of a request's counters are used by one script, so on Redis Cluster they must hash to one
 * slot: give a prefix with a hash tag, such as {@code {llmgw}:limits:} (which puts every counter on
 * one shard). Standalone Redis and Sentinel need nothing.
 *
 * <p>Time comes from the caller ({@link Limits}' clock), not from Redis: buckets and periods are
 * the replicas' idea of now, so replicas' clocks should be synchronized (NTP). TTLs are relative,
 * so Redis' own clock only decides when old counters disappear.
 *
 * <p>Every operation goes through a circuit breaker (Resilience4j). When most recent operations
 * failed, the breaker opens and operations fail at once with {@link CallNotPermittedException}
 * instead of each waiting for its timeout; {@link Limits} then applies the configured failure mode
 * as for any store error. After {@link #DEFAULT_OPEN_FOR} a few trial operations go to Redis again,
 * and their outcome closes or reopens the breaker. Without it, a Redis that stops answering would add
 * the full timeout to every request on every replica for as long as it is away.
 */
public final class RedisLimitStore implements LimitStore {

  /** The default key prefix. */
  public static final String DEFAULT_PREFIX = "llmgw:limits:";
  /** How long an open breaker fails operations at once before it lets trial operations through. */
  public static final Duration DEFAULT_OPEN_FOR = Duration.ofSeconds(5);
  /** The breaker judges the outcomes of this many most recent operations... */
  static final int BREAKER_WINDOW = 20;
  /** ...once it has seen at least this many... */
  static final int BREAKER_MINIMUM_CALLS = 10;
  /** ...and opens when at least this percentage of them failed. */
  static final float BREAKER_FAILURE_PERCENT = 50;
  /** Operations let through to Redis when the open period ends; all must succeed to close again. */
  static final int BREAKER_TRIAL_CALLS = 3;

  static final String CIRCUIT_STATE = "llmgw.limits.store.circuit.state";
  static final String CIRCUIT_SHORT_CIRCUITED = "llmgw.limits.store.circuit.short.circuited";

  private static final Logger log = LoggerFactory.getLogger(RedisLimitStore.class);

  private final UnifiedJedis redis;
  private final String prefix;
  private final CircuitBreaker breaker;

  /**
   * A store over {@code redis} (a pooled {@link RedisClient}, usually), which it owns and closes,
   * with the default circuit breaker.
   *
   * @param keyPrefix put before every key, so several gateways can share a Redis
   */
  public RedisLimitStore(UnifiedJedis redis, String keyPrefix) {
    this(redis, keyPrefix, breakerConfig(Clock.systemUTC(), DEFAULT_OPEN_FOR));
  }

  /** As {@link #RedisLimitStore(UnifiedJedis, String)}, with the given circuit breaker settings. */
  public RedisLimitStore(UnifiedJedis redis, String keyPrefix, CircuitBreakerConfig breakerConfig) {
    this.redis = requireNonNull(redis, "redis");
    this.prefix = requireNonNull(keyPrefix, "keyPrefix");
    this.breaker =
        CircuitBreaker.of("redis-limits", requireNonNull(breakerConfig, "breakerConfig"));
    breaker.getEventPublisher().onStateTransition(event -> {
      switch (event.getStateTransition().getToState()) {
        case OPEN ->
          log.warn(
              "Redis limit store: {} of the last operations failed; for the next {} s operations fail at once "
                  + "and the limits' failure modes apply (circuit open)",
              describeFailures(),
              breakerConfig.getWaitIntervalFunctionInOpenState().apply(1) / 1000.0);
        case HALF_OPEN -> log.info("Redis limit store: trying Redis again (circuit half open)");
        case CLOSED -> log.info("Redis limit store: Redis answers again (circuit closed)");
        default ->
          log.info("Redis limit store: circuit {}", event.getStateTransition().getToState());
      }
    });
  }

  /**
   * The breaker settings used by default: over the last {@value #BREAKER_WINDOW} operations (at
   * least {@value #BREAKER_MINIMUM_CALLS}), open when half failed; stay open for {@code openFor},
   * measured on {@code clock}; then let {@value #BREAKER_TRIAL_CALLS} trial operations decide.
   */
  public static CircuitBreakerConfig breakerConfig(Clock clock, Duration openFor) {
    requireNonNull(clock, "clock");
    requireNonNull(openFor, "openFor");
    if (openFor.isNegative() || openFor.isZero()) {
      throw new IllegalArgumentException("openFor: " + openFor + " (expected: > 0)");
    }
    return CircuitBreakerConfig.custom()
        .slidingWindow(
            BREAKER_WINDOW,
            BREAKER_MINIMUM_CALLS,
            CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .failureRateThreshold(BREAKER_FAILURE_PERCENT)
        .waitDurationInOpenState(openFor)
        .permittedNumberOfCallsInHalfOpenState(BREAKER_TRIAL_CALLS)
        .clock(clock)
        .build();
  }

  /**
   * Publishes the breaker's state ({@value #CIRCUIT_STATE}: 0 closed, 1 open, 2 half open) and the
   * operations it failed at once ({@value #CIRCUIT_SHORT_CIRCUITED}).
   */
  public RedisLimitStore bindTo(MeterRegistry registry) {
    Gauge.builder(CIRCUIT_STATE, breaker, b -> switch (b.getState()) {
          case CLOSED -> 0;
          case OPEN, FORCED_OPEN -> 1;
          case HALF_OPEN -> 2;
          default -> -1;
        })
        .description(
            "The Redis limit store's circuit breaker: 0 closed, 1 open (operations fail at once), 2 half open")
        .register(registry);
    Counter shortCircuited = Counter.builder(CIRCUIT_SHORT_CIRCUITED)
        .description("Limit store operations failed at once because the circuit breaker was open")
        .register(registry);
    breaker.getEventPublisher().onCallNotPermitted(event -> shortCircuited.increment());
    return this;
  }

  /** The breaker's state, for tests and diagnostics. */
  public CircuitBreaker.State circuitState() {
    return breaker.getState();
  }

  private String describeFailures() {
    CircuitBreaker.Metrics m = breaker.getMetrics();
    return m.getNumberOfFailedCalls() + " of "
        + (m.getNumberOfFailedCalls() + m.getNumberOfSuccessfulCalls());
  }

  /**
   * A pooled client to {@code host:port} with the default prefix and circuit breaker. {@code timeout}
   * bounds connecting, each command and waiting for a free connection: a slow Redis must fail (and
   * apply the configured failure mode) rather than hold up requests.
   */
  public static RedisLimitStore connect(
      String host, int port, Duration timeout, int maxConnections) {
    return connect(
        host, port, timeout, maxConnections, breakerConfig(Clock.systemUTC(), DEFAULT_OPEN_FOR));
  }

  /** As {@link #connect(String, int, Duration, int)}, with the given circuit breaker settings. */
  public static RedisLimitStore connect(
      String host,
      int port,
      Duration timeout,
      int maxConnections,
      CircuitBreakerConfig breakerConfig) {
    requireNonNull(host, "host");
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: >= 1)");
    }
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(maxConnections);
    pool.setMaxIdle(maxConnections);
    pool.setMaxWait(timeout);
    RedisClient client = RedisClient.builder()
        .hostAndPort(host, port)
        .clientConfig(DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(millis)
            .socketTimeoutMillis(millis)
            .clientName("llmgw-limits")
            .build())
        .poolConfig(pool)
        .build();
    return new RedisLimitStore(client, DEFAULT_PREFIX, breakerConfig);
  }

  @Override
  public Reservation reserve(List<Charge> charges, long nowSecond) {
    int n = charges.size();
    List<String> keys = new ArrayList<>(n);
    List<String> args = new ArrayList<>(2 + 5 * n);
    args.add(Long.toString(nowSecond));
    args.add(Integer.toString(Charge.WINDOW_SECONDS));
    for (Charge c : charges) {
      keys.add(prefix + c.key());
      args.add(c.windowed() ? "1" : "0");
      args.add(Long.toString(c.limit()));
      args.add(Long.toString(c.amount()));
      args.add(c.enforced() ? "1" : "0");
      args.add(Long.toString(Math.max(1, c.ttlMillis())));
    }
    List<?> reply = run(RedisScripts.RESERVE, keys, args);
    long[] used = new long[n];
    for (int i = 0; i < n; i++) {
      used[i] = (Long) reply.get(2 + i);
    }
    return new Reservation(((Long) reply.get(0)).intValue(), (Long) reply.get(1), used);
  }

  @Override
  public long[] settle(List<Settlement> settlements, long nowSecond) {
    int n = settlements.size();
    List<String> keys = new ArrayList<>(n);
    List<String> args = new ArrayList<>(2 + 4 * n);
    args.add(Long.toString(nowSecond));
    args.add(Integer.toString(Charge.WINDOW_SECONDS));
    for (Settlement s : settlements) {
      keys.add(prefix + s.key());
      if (s.windowed()) {
        args.add("1");
        args.add(Long.toString(s.actual() - s.reserved()));
        args.add(Long.toString(s.second()));
        args.add("0");
      } else {
        args.add("0");
        args.add(Long.toString(-s.reserved()));
        args.add(Long.toString(s.actual()));
        args.add(Long.toString(s.ttlMillis()));
      }
    }
    List<?> reply = run(RedisScripts.SETTLE, keys, args);
    long[] spent = new long[n];
    for (int i = 0; i < n; i++) {
      spent[i] = (Long) reply.get(i);
    }
    return spent;
  }

  @Override
  public void close() {
    redis.close();
  }

  private List<?> run(RedisScripts.Script script, List<String> keys, List<String> args) {
    return breaker.executeSupplier(() -> evaluate(script, keys, args));
  }

  private List<?> evaluate(RedisScripts.Script script, List<String> keys, List<String> args) {
    Object reply;
    try {
      reply = redis.evalsha(script.sha(), keys, args);
    } catch (JedisNoScriptException e) {
      reply = redis.eval(script.text(), keys, args);
    }
    if (reply instanceof List<?> list) {
      return list;
    }
    throw new IllegalStateException(
        "limits script answered " + reply + " (expected: a list of integers)");
  }
}
