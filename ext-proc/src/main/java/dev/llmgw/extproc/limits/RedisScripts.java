package dev.llmgw.extproc.limits;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts of {@link RedisLimitStore}. Redis runs a script as one atomic step, which is what
 * makes check-and-reserve safe across replicas. Counters hold integers only (micro-dollars, tokens,
 * requests) and every write is HINCRBY with an integer string computed in Java; Lua arithmetic
 * (doubles) is only used for comparisons and sums, exact below 2^53.
 *
 * <p>Layout: a budget is a hash {@code {spent, reserved}} with a TTL to a day after its period; a
 * window is a hash from epoch second to count, whose stale fields are deleted when it is written,
 * with a TTL of two windows.
 */
final class RedisScripts {

  /**
   * KEYS: one counter per charge. ARGV: now (epoch second), window (seconds), then per charge
   * windowed (0/1), limit, amount, enforced (0/1), ttl (ms). Returns {failed index or -1, retry
   * second, used...}.
   */
  static final Script RESERVE = new Script("""
      local now = tonumber(ARGV[1])
      local window = tonumber(ARGV[2])
      local oldest = now - window + 1
      local n = #KEYS
      local used = {}
      local live = {}
      local stale = {}
      for i = 1, n do
        local a = 2 + (i - 1) * 5
        if ARGV[a + 1] == '1' then
          local flat = redis.call('HGETALL', KEYS[i])
          local sum = 0
          local buckets = {}
          local old = {}
          for j = 1, #flat, 2 do
            local second = tonumber(flat[j])
            if second >= oldest then
              local count = tonumber(flat[j + 1])
              sum = sum + count
              buckets[#buckets + 1] = {second, count}
            else
              old[#old + 1] = flat[j]
            end
          end
          used[i] = math.max(sum, 0)
          live[i] = buckets
          stale[i] = old
        else
          local v = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
          used[i] = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
        end
      end
      for i = 1, n do
        local a = 2 + (i - 1) * 5
        local limit = tonumber(ARGV[a + 2])
        local amount = tonumber(ARGV[a + 3])
        if ARGV[a + 4] == '1' and used[i] + amount > limit then
          local retry = 0
          if ARGV[a + 1] == '1' then
            local newest = now
            for _, b in ipairs(live[i]) do
              if b[1] > newest then newest = b[1] end
            end
            retry = newest + window
            if amount <= limit then
              table.sort(live[i], function(x, y) return x[1] < y[1] end)
              local mustLeave = used[i] + amount - limit
              local left = 0
              for _, b in ipairs(live[i]) do
                left = left + b[2]
                if left >= mustLeave then
                  retry = b[1] + window
                  break
                end
              end
            end
          end
          local reply = {i - 1, retry}
          for k = 1, n do reply[#reply + 1] = used[k] end
          return reply
        end
      end
      for i = 1, n do
        local a = 2 + (i - 1) * 5
        if ARGV[a + 1] == '1' then
          if ARGV[a + 3] ~= '0' then
            redis.call('HINCRBY', KEYS[i], ARGV[1], ARGV[a + 3])
          end
          if #stale[i] > 0 then
            redis.call('HDEL', KEYS[i], unpack(stale[i]))
          end
          redis.call('PEXPIRE', KEYS[i], window * 2000)
        else
          redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[a + 3])
          redis.call('PEXPIRE', KEYS[i], ARGV[a + 5])
        end
      end
      local reply = {-1, 0}
      for k = 1, n do reply[#reply + 1] = used[k] end
      return reply
      """);

  /**
   * KEYS: one counter per settlement. ARGV: now (epoch second), window (seconds), then per
   * settlement windowed (0/1), first (budget: −reserved; window: actual − reserved), second (budget:
   * actual; window: the admission's second), ttl (ms). Returns the spend after settling per budget,
   * -1 otherwise.
   */
  static final Script SETTLE = new Script("""
      local now = tonumber(ARGV[1])
      local window = tonumber(ARGV[2])
      local reply = {}
      for i = 1, #KEYS do
        local a = 2 + (i - 1) * 4
        reply[i] = -1
        if ARGV[a + 1] == '1' then
          if tonumber(ARGV[a + 3]) > now - window and ARGV[a + 2] ~= '0' then
            local count = redis.call('HINCRBY', KEYS[i], ARGV[a + 3], ARGV[a + 2])
            if count < 0 then redis.call('HSET', KEYS[i], ARGV[a + 3], 0) end
            redis.call('PEXPIRE', KEYS[i], window * 2000)
          end
        elseif tonumber(ARGV[a + 4]) > 0 then
          local reserved = redis.call('HINCRBY', KEYS[i], 'reserved', ARGV[a + 2])
          if reserved < 0 then redis.call('HSET', KEYS[i], 'reserved', 0) end
          reply[i] = redis.call('HINCRBY', KEYS[i], 'spent', ARGV[a + 3])
          redis.call('PEXPIRE', KEYS[i], ARGV[a + 4])
        end
      end
      return reply
      """);

  private RedisScripts() {}

  /** A script and its SHA-1, which is the name EVALSHA knows it by. */
  record Script(String text, String sha) {
    Script(String text) {
      this(text, sha1(text));
    }

    private static String sha1(String text) {
      try {
        return HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is required by every Java platform", e);
      }
    }
  }
}
