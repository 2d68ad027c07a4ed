package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Counters in this process, for a single ext-proc. Each counter is a small object guarded by its own
 * monitor; a reservation locks the (at most eight) counters it touches in key order, so the check
 * and the add are one atomic step without a global lock and without deadlock. Nothing here waits on
 * I/O: the longest a request waits is for another request's few additions to the same counters.
 *
 * <p>Caffeine drops budget counters a day after their period ends and window counters after two
 * idle minutes. Scope ids come from clients (a tenant header, any API key), so the counters of ids
 * the policy does not name ({@link Charge#known()} false: only a {@code "*"} rule matches them) are
 * also bounded in number, {@link #MAX_UNKNOWN_COUNTERS} by default; past that, Caffeine evicts the
 * ones it expects least to be used again (W-TinyLFU, so a burst of one-off ids does not push out
 * ids in steady use). An evicted counter forgets its spend, which gives its id nothing it could not
 * get by sending a new value. Counters of ids the policy names are never evicted for size: their
 * number is bounded by the policy, and their spend is what budgets exist to keep.
 */
public final class LocalLimitStore implements LimitStore {

  /** Counters of ids the policy does not name held at most, by default. */
  public static final long MAX_UNKNOWN_COUNTERS = 50_000;

  private static final long WINDOW_IDLE_NANOS =
      TimeUnit.SECONDS.toNanos(2L * Charge.WINDOW_SECONDS);

  private final Cache<String, Counter> counters;

  LocalLimitStore(Ticker ticker, Executor maintenance, long maxUnknownCounters) {
    if (maxUnknownCounters <= 0) {
      throw new IllegalArgumentException(
          "maxUnknownCounters: " + maxUnknownCounters + " (expected: > 0)");
    }
    this.counters = Caffeine.newBuilder()
        .ticker(requireNonNull(ticker, "ticker"))
        .executor(requireNonNull(maintenance, "maintenance"))
        .maximumWeight(maxUnknownCounters)
        .weigher((String key, Counter counter) -> counter.known ? 0 : 1)
        .expireAfter(new Expiry<String, Counter>() {
          @Override
          public long expireAfterCreate(String key, Counter counter, long currentTime) {
            return counter.ttlNanos();
          }

          @Override
          public long expireAfterUpdate(
              String key, Counter counter, long currentTime, long currentDuration) {
            return currentDuration;
          }

          @Override
          public long expireAfterRead(
              String key, Counter counter, long currentTime, long currentDuration) {
            return counter instanceof Window ? WINDOW_IDLE_NANOS : currentDuration;
          }
        })
        .build();
  }

  /** A store whose expiry and eviction run on the calling thread (a few map removals, amortized). */
  public static LocalLimitStore create() {
    return new LocalLimitStore(Ticker.systemTicker(), Runnable::run, MAX_UNKNOWN_COUNTERS);
  }

  @Override
  public Reservation reserve(List<Charge> charges, long nowSecond) {
    int n = charges.size();
    Counter[] touched = new Counter[n];
    for (int i = 0; i < n; i++) {
      Charge c = charges.get(i);
      touched[i] = counter(c.key(), c.windowed(), c.ttlMillis(), c.known());
    }
    return locked(touched, keyOrder(charges), 0, () -> reserveLocked(charges, touched, nowSecond));
  }

  private static Reservation reserveLocked(
      List<Charge> charges, Counter[] touched, long nowSecond) {
    int n = charges.size();
    long[] used = new long[n];
    for (int i = 0; i < n; i++) {
      used[i] = touched[i].used(nowSecond);
    }
    for (int i = 0; i < n; i++) {
      Charge c = charges.get(i);
      if (c.enforced() && used[i] + c.amount() > c.limit()) {
        long retry = touched[i] instanceof Window w ? w.fitsAt(used[i], c.amount(), c.limit()) : 0;
        return new Reservation(i, retry, used);
      }
    }
    for (int i = 0; i < n; i++) {
      touched[i].add(nowSecond, charges.get(i).amount());
    }
    return new Reservation(-1, 0, used);
  }

  @Override
  public long[] settle(List<Settlement> settlements, long nowSecond) {
    long[] spent = new long[settlements.size()];
    Arrays.fill(spent, -1);
    for (int i = 0; i < spent.length; i++) {
      Settlement s = settlements.get(i);
      if (s.windowed()) {
        Window w = (Window) counter(s.key(), true, 0, s.known());
        synchronized (w) {
          w.used(nowSecond);
          w.add(s.second(), s.actual() - s.reserved());
        }
      } else if (s.ttlMillis() > 0) {
        Budget b = (Budget) counter(s.key(), false, s.ttlMillis(), s.known());
        synchronized (b) {
          spent[i] = b.settle(s.reserved(), s.actual());
        }
      }
    }
    return spent;
  }

  /** Counters currently held, after running pending expiry; for tests. */
  long size() {
    counters.cleanUp();
    return counters.estimatedSize();
  }

  @Override
  public void close() {
    counters.invalidateAll();
  }

  private Counter counter(String key, boolean windowed, long ttlMillis, boolean known) {
    Counter c = counters.get(
        key,
        k -> windowed
            ? new Window(known)
            : new Budget(TimeUnit.MILLISECONDS.toNanos(ttlMillis), known));
    if (c instanceof Window != windowed) {
      throw new IllegalStateException("counter " + key + " is a " + (windowed ? "budget" : "window")
          + " (expected: a " + (windowed ? "window" : "budget") + ")");
    }
    return c;
  }

  /** Indices of {@code charges} sorted by key: the one lock order every reservation follows. */
  private static int[] keyOrder(List<Charge> charges) {
    int n = charges.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      int j = i;
      while (j > 0 && charges.get(order[j - 1]).key().compareTo(charges.get(i).key()) > 0) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    return order;
  }

  private static <T> T locked(Counter[] touched, int[] order, int next, Supplier<T> body) {
    if (next == order.length) {
      return body.get();
    }
    synchronized (touched[order[next]]) {
      return locked(touched, order, next + 1, body);
    }
  }

  /** A counter; every access holds its monitor. */
  private abstract static sealed class Counter permits Budget, Window {
    /** Never evicted for size (see {@link Charge#known()}). */
    final boolean known;

    Counter(boolean known) {
      this.known = known;
    }

    abstract long ttlNanos();

    abstract long used(long nowSecond);

    abstract void add(long second, long amount);
  }

  /** A budget's spend and reservations in one period. */
  private static final class Budget extends Counter {
    private final long ttlNanos;
    private long spent;
    private long reserved;

    Budget(long ttlNanos, boolean known) {
      super(known);
      this.ttlNanos = ttlNanos;
    }

    @Override
    long ttlNanos() {
      return ttlNanos;
    }

    @Override
    long used(long nowSecond) {
      return spent + reserved;
    }

    @Override
    void add(long second, long amount) {
      reserved += amount;
    }

    long settle(long release, long actual) {
      reserved = Math.max(0, reserved - release);
      spent += actual;
      return spent;
    }
  }

  /** One-second buckets of the last minute, in a ring; {@code latest} is the newest bucket's second. */
  private static final class Window extends Counter {
    private final long[] buckets = new long[Charge.WINDOW_SECONDS];
    private long latest = Long.MIN_VALUE;

    Window(boolean known) {
      super(known);
    }

    @Override
    long ttlNanos() {
      return WINDOW_IDLE_NANOS;
    }

    /** The sum of the last minute; a clock read just before another thread's counts as that one's. */
    @Override
    long used(long nowSecond) {
      advance(nowSecond);
      long sum = 0;
      for (long b : buckets) {
        sum += b;
      }
      return Math.max(0, sum);
    }

    /** Adds to the bucket of {@code second} unless it has left the window. */
    @Override
    void add(long second, long amount) {
      advance(second);
      if (second <= latest - Charge.WINDOW_SECONDS) {
        return;
      }
      int i = Math.floorMod(second, Charge.WINDOW_SECONDS);
      buckets[i] = Math.max(0, buckets[i] + amount);
    }

    /** The first second at which {@code amount} fits, as the oldest buckets leave the window. */
    long fitsAt(long used, long amount, long limit) {
      if (amount > limit) {
        return latest + Charge.WINDOW_SECONDS;
      }
      long mustLeave = used + amount - limit;
      long left = 0;
      for (long s = latest - Charge.WINDOW_SECONDS + 1; s <= latest; s++) {
        left += buckets[Math.floorMod(s, Charge.WINDOW_SECONDS)];
        if (left >= mustLeave) {
          return s + Charge.WINDOW_SECONDS;
        }
      }
      return latest + Charge.WINDOW_SECONDS;
    }

    private void advance(long nowSecond) {
      if (latest == Long.MIN_VALUE || nowSecond - latest >= Charge.WINDOW_SECONDS) {
        Arrays.fill(buckets, 0);
        latest = nowSecond;
        return;
      }
      for (long s = latest + 1; s <= nowSecond; s++) {
        buckets[Math.floorMod(s, Charge.WINDOW_SECONDS)] = 0;
      }
      latest = Math.max(latest, nowSecond);
    }
  }
}
