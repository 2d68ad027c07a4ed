package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One stored document: a configuration object of some kind (a provider, a route, …) as JSON, with
 * the revision it was last written at. The revision is the store version of that write, so it is
 * unique across the whole store and doubles as an ETag.
 *
 * <p>The body is copied on construction and normalized to what parsing its JSON gives (a {@code
 * long} 5 becomes an {@code int} node), so a document equals itself read back after a restart.
 * Treat the node {@link #body()} returns as read-only: every reader of the state shares it.
 */
public record StoredDocument(String kind, String name, JsonNode body, long revision) {

  public StoredDocument {
    Change.checkKey("kind", kind);
    Change.checkKey("name", name);
    requireNonNull(body, "body");
    if (body.isNull() || body.isMissingNode()) {
      throw new IllegalArgumentException(
          "body: " + body.getNodeType() + " (expected: a JSON value)");
    }
    if (revision <= 0) {
      throw new IllegalArgumentException("revision: " + revision + " (expected: > 0)");
    }
    body = StoreCodec.normalize(body);
  }
}
