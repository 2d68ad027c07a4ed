package dev.llmgw.extproc.limits;

/**
 * A store's answer to {@link LimitStore#reserve}.
 *
 * @param failed index of the first enforced charge that did not fit (nothing was added), or -1
 *     (everything was added)
 * @param retrySecond when {@code failed} is a window counter: the first epoch second at which it
 *     would fit if nothing else were added, or when the window is empty if it never fits
 * @param used per charge, the counter's value before this request: spend plus reservations, or the
 *     window's sum
 */
record Reservation(int failed, long retrySecond, long[] used) {

  boolean admitted() {
    return failed < 0;
  }
}
