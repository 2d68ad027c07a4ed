package dev.llmgw.extproc.cost;

import java.util.Optional;

/**
 * What pricing one exchange gave: a {@link Cost}, or {@link Unpriced} with the reason there is none.
 * A sealed pair rather than a bare {@link Optional}, so the reason reaches logs and metrics.
 */
public sealed interface CostResult permits Cost, Unpriced {

  /** The cost, when the exchange could be priced. */
  default Optional<Cost> cost() {
    return this instanceof Cost c ? Optional.of(c) : Optional.empty();
  }

  /** Why the exchange has no cost, when it has none. */
  default Optional<Unpriced> unpriced() {
    return this instanceof Unpriced u ? Optional.of(u) : Optional.empty();
  }
}
