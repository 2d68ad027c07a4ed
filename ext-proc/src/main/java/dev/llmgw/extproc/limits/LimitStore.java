package dev.llmgw.extproc.limits;

import java.util.List;

/**
 * Where counters live: {@link LocalLimitStore} in the process, for a single ext-proc;
 * {@link RedisLimitStore} shared by every replica. {@link Limits} does the money, time and rule
 * logic and hands a store plain integers, so both stores implement the same two atomic operations
 * and are tested by the same behaviour suite.
 *
 * <p>Counters are of two shapes. A <em>period</em> counter (budgets) holds settled spend and
 * reserved spend, and expires some time after its period. A <em>window</em> counter (rate limits)
 * holds {@value Charge#WINDOW_SECONDS} one-second buckets; its value is the sum of the buckets of
 * the last {@value Charge#WINDOW_SECONDS} seconds.
 */
public sealed interface LimitStore extends AutoCloseable permits LocalLimitStore, RedisLimitStore {

  /**
   * Atomically checks every charge and, only if every enforced one fits ({@code used + amount <=
   * limit}), adds them all; otherwise changes nothing. Charges that are not enforced are added
   * whenever the enforced ones fit, even if they themselves do not.
   *
   * @param nowSecond the current epoch second: the window bucket reservations go to
   * @throws RuntimeException when the store cannot be reached; nothing is known to be reserved
   */
  Reservation reserve(List<Charge> charges, long nowSecond);

  /**
   * Turns reservations into actual usage: a period counter releases {@code reserved} (never below
   * zero) and adds {@code actual} to the spend; a window counter adds {@code actual − reserved} to
   * the bucket of {@code second}, if that bucket is still inside the window.
   *
   * @return per settlement, the period counter's spend after settling, or -1 for window counters
   *     and for period counters past their expiry ({@code ttlMillis <= 0}), which are left alone
   * @throws RuntimeException when the store cannot be reached; nothing is known to be settled
   */
  long[] settle(List<Settlement> settlements, long nowSecond);

  /** Releases connections; counters in a local store are gone. */
  @Override
  void close();
}
