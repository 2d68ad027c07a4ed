package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

/**
 * One detected span: UTF-16 offsets into the scanned text, end exclusive. A finding carries no copy
 * of the matched text, so it can be logged, counted and passed around without leaking the value.
 */
public record Finding(EntityType type, int start, int end) {

  public Finding {
    requireNonNull(type, "type");
    if (start < 0 || end <= start) {
      throw new IllegalArgumentException(
          "span: [" + start + ", " + end + ") (expected: 0 <= start < end)");
    }
  }
}
