package dev.llmgw.extproc.limits;

/**
 * One counter's correction after a response.
 *
 * @param key the counter
 * @param windowed a rate-limit window counter (true) or a budget period counter (false)
 * @param reserved what admission reserved in it
 * @param actual what was actually used
 * @param second window counters: the admission's bucket
 * @param ttlMillis period counters: how long the counter must still live; {@code <= 0} means its
 *     period is long over and the settlement is dropped
 * @param known as {@link Charge#known()}, for a counter that must be made again
 */
record Settlement(
    String key,
    boolean windowed,
    long reserved,
    long actual,
    long second,
    long ttlMillis,
    boolean known) {}
