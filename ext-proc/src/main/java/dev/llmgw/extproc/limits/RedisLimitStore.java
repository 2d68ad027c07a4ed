package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 */
public final class RedisLimitStore implements LimitStore {

  /** The default key prefix. */
  public static final String DEFAULT_PREFIX = "llmgw:limits:";

  private final UnifiedJedis redis;
  private final String prefix;

  /**
   * A store over {@code redis} (a pooled {@link RedisClient}, usually), which it owns and closes.
   *
   * @param keyPrefix put before every key, so several gateways can share a Redis
   */
  public RedisLimitStore(UnifiedJedis redis, String keyPrefix) {
    this.redis = requireNonNull(redis, "redis");
    this.prefix = requireNonNull(keyPrefix, "keyPrefix");
  }

  /**
   * A pooled client to {@code host:port} with the default prefix. {@code timeout} bounds connecting,
   * each command and waiting for a free connection: a slow Redis must fail (and apply the
   * configured failure mode) rather than hold up requests.
   */
  public static RedisLimitStore connect(String host, int port, Duration timeout, int maxConnections) {
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
    return new RedisLimitStore(client, DEFAULT_PREFIX);
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
    Object reply;
    try {
      reply = redis.evalsha(script.sha(), keys, args);
    } catch (JedisNoScriptException e) {
      reply = redis.eval(script.text(), keys, args);
    }
    if (reply instanceof List<?> list) {
      return list;
    }
    throw new IllegalStateException("limits script answered " + reply + " (expected: a list of integers)");
  }
}
