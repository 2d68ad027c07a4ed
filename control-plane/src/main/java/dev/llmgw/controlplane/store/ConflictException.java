package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.util.OptionalLong;

/**
 * A change's expectation about a document's revision did not hold, so nothing was written. Carries
 * the document's current revision so a caller can re-read and retry, or report it (409/412).
 */
public final class ConflictException extends Exception {

  private static final long serialVersionUID = 1L;

  private final String kind;
  private final String name;
  private final long currentRevision; // 0 when the document does not exist

  /**
   * @param expected what the change needed, as a phrase: {@code "revision 3"}, {@code "it not to
   *     exist"}, {@code "it to exist"}
   * @param currentRevision the document's revision now; empty if it does not exist
   */
  public ConflictException(
      String kind, String name, String expected, OptionalLong currentRevision) {
    super(kind + " '" + name + "': expected " + expected + ", but "
        + (currentRevision.isPresent()
            ? "it is at revision " + currentRevision.getAsLong()
            : "it does not exist"));
    this.kind = kind;
    this.name = name;
    this.currentRevision = requireNonNull(currentRevision, "currentRevision").orElse(0);
  }

  /** Kind of the document whose expectation failed (the first one, for a batch). */
  public String kind() {
    return kind;
  }

  /** Name of the document whose expectation failed. */
  public String name() {
    return name;
  }

  /** The document's revision when the change was refused; empty if it does not exist. */
  public OptionalLong currentRevision() {
    return currentRevision == 0 ? OptionalLong.empty() : OptionalLong.of(currentRevision);
  }
}
