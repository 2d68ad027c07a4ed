package dev.llmgw.extproc.limits;

/**
 * One counter a request must fit in, in the store's integer units.
 *
 * @param key the counter
 * @param windowed a rate-limit window counter (true) or a budget period counter (false)
 * @param limit micro-dollars, tokens or requests
 * @param amount what this request adds
 * @param enforced false for a downgrade budget: added even when over, so the caller can downgrade
 * @param ttlMillis period counters: how long the counter must live from now (period end plus grace)
 * @param known whether the policy names the counter's scope id (see {@link Hold#known()}); a store
 *     that holds counters in memory never evicts those, but may evict the others when it holds too
 *     many
 */
record Charge(
    String key,
    boolean windowed,
    long limit,
    long amount,
    boolean enforced,
    long ttlMillis,
    boolean known) {

  /** The rate-limit window, in one-second buckets. */
  static final int WINDOW_SECONDS = 60;
}
