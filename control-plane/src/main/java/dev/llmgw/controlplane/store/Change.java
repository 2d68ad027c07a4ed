package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * One write: a put or a delete of one document, optionally conditional on the document's current
 * revision (optimistic concurrency).
 *
 * @param body the new document for {@link Op#PUT}; {@code null} for {@link Op#DELETE}
 * @param expectedRevision empty: unconditional; {@code 0}: the document must not exist (create);
 *     {@code n > 0}: the document must currently be at revision {@code n}
 */
public record Change(
    Op op, String kind, String name, @Nullable JsonNode body, OptionalLong expectedRevision) {

  /** What a change does to its document. */
  public enum Op {
    PUT,
    DELETE
  }

  public Change {
    requireNonNull(op, "op");
    checkKey("kind", kind);
    checkKey("name", name);
    requireNonNull(expectedRevision, "expectedRevision");
    if (expectedRevision.isPresent() && expectedRevision.getAsLong() < 0) {
      throw new IllegalArgumentException("expectedRevision: " + expectedRevision.getAsLong()
          + " (expected: >= 0, or empty for unconditional)");
    }
    if (op == Op.PUT && (body == null || body.isNull() || body.isMissingNode())) {
      throw new IllegalArgumentException("body: " + (body == null ? "null" : body.getNodeType())
          + " (expected: a JSON value for PUT; use DELETE to remove a document)");
    }
    if (op == Op.DELETE && body != null) {
      throw new IllegalArgumentException(
          "body: " + body.getNodeType() + " (expected: null for DELETE)");
    }
  }

  /** An unconditional put: creates the document or replaces it, whatever its revision. */
  public static Change put(String kind, String name, JsonNode body) {
    return new Change(Op.PUT, kind, name, body, OptionalLong.empty());
  }

  /** A put that succeeds only if the document is at {@code expectedRevision} (0: does not exist). */
  public static Change put(String kind, String name, JsonNode body, long expectedRevision) {
    return new Change(Op.PUT, kind, name, body, OptionalLong.of(expectedRevision));
  }

  /** A put that succeeds only if the document does not exist yet. */
  public static Change create(String kind, String name, JsonNode body) {
    return put(kind, name, body, 0);
  }

  /** An unconditional delete; the document must exist. */
  public static Change delete(String kind, String name) {
    return new Change(Op.DELETE, kind, name, null, OptionalLong.empty());
  }

  /** A delete that succeeds only if the document is at {@code expectedRevision}. */
  public static Change delete(String kind, String name, long expectedRevision) {
    return new Change(Op.DELETE, kind, name, null, OptionalLong.of(expectedRevision));
  }

  static void checkKey(String what, String value) {
    requireNonNull(value, what);
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + ": '" + value + "' (expected: not blank)");
    }
  }
}
