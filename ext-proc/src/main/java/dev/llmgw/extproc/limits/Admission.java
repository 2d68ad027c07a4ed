package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The answer of {@link Limits#admit}: refused with a {@link Rejection}, or admitted holding
 * reservations that {@link Limits#settle} turns into actual usage once the response is known.
 * An admission may also say to use a cheaper model (a budget's {@code downgrade_to}); the caller
 * applies it.
 *
 * <p>Every admitted request must be settled exactly once, even if it is never forwarded (settle with
 * zero) or the response never ends ({@link Limits#settleWithEstimate}); otherwise its reservation
 * counts against the budget until the period ends. Settling again does nothing.
 */
public final class Admission {

  private static final Admission UNLIMITED = new Admission(null, null, List.of(), 0, 0);

  private final @Nullable Rejection rejection;
  private final @Nullable String downgradeTo;
  private final List<Hold> holds;
  private final long estimatedTokens;
  private final long estimatedMicros;
  private final AtomicBoolean settled = new AtomicBoolean();

  private Admission(
      @Nullable Rejection rejection,
      @Nullable String downgradeTo,
      List<Hold> holds,
      long estimatedTokens,
      long estimatedMicros) {
    this.rejection = rejection;
    this.downgradeTo = downgradeTo;
    this.holds = holds;
    this.estimatedTokens = estimatedTokens;
    this.estimatedMicros = estimatedMicros;
  }

  /** No rule applies: nothing reserved, nothing to settle (shared, so settling never touches its flag). */
  static Admission unlimited() {
    return UNLIMITED;
  }

  static Admission rejected(Rejection rejection) {
    return new Admission(requireNonNull(rejection, "rejection"), null, List.of(), 0, 0);
  }

  static Admission admitted(
      List<Hold> holds, @Nullable String downgradeTo, long estimatedTokens, long estimatedMicros) {
    return new Admission(null, downgradeTo, List.copyOf(holds), estimatedTokens, estimatedMicros);
  }

  /** Whether the request may be forwarded (possibly with {@link #downgradeTo()}). */
  public boolean admitted() {
    return rejection == null;
  }

  /** Why the request was refused; empty when admitted. */
  public Optional<Rejection> rejection() {
    return Optional.ofNullable(rejection);
  }

  /** The model to forward to instead of the requested one, because a downgrade budget is used up. */
  public Optional<String> downgradeTo() {
    return Optional.ofNullable(downgradeTo);
  }

  List<Hold> holds() {
    return holds;
  }

  long estimatedTokens() {
    return estimatedTokens;
  }

  long estimatedMicros() {
    return estimatedMicros;
  }

  /** True exactly once: for the call that settles. */
  boolean markSettled() {
    return settled.compareAndSet(false, true);
  }

  @Override
  public String toString() {
    if (rejection != null) {
      return "Admission[rejected " + rejection.kind() + " "
          + rejection.scopeKind().describe(rejection.scopeId()) + "]";
    }
    return "Admission[admitted, " + holds.size() + " holds"
        + (downgradeTo == null ? "" : ", downgrade to " + downgradeTo) + "]";
  }
}
