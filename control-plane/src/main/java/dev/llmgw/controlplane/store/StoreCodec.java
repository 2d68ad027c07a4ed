package dev.llmgw.controlplane.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * JSON payloads of the store's files. A journal entry is {@code {"version":7,"changes":[{"op":"PUT",
 * "kind":"providers","name":"openai","body":{…}}]}}; a snapshot is {@code {"version":7,
 * "documents":[{"kind":…,"name":…,"revision":5,"body":{…}}]}}. Decoding throws {@link
 * IllegalArgumentException} naming the field; callers add the file and offset.
 */
final class StoreCodec {

  private static final ObjectMapper JSON = new ObjectMapper();

  private StoreCodec() {}

  /** A committed journal entry: the version it produced and the changes, without expectations. */
  record Entry(long version, List<Change> changes) {}

  /** A copy of {@code node} as parsing its own JSON yields it: number types as the parser picks them. */
  static JsonNode normalize(JsonNode node) {
    try {
      return JSON.readTree(bytes(node));
    } catch (IOException e) {
      throw new IllegalStateException("re-reading JSON just written in memory failed", e);
    }
  }

  static byte[] entry(long version, List<Change> changes) {
    ObjectNode out = JSON.createObjectNode().put("version", version);
    ArrayNode list = out.putArray("changes");
    for (Change c : changes) {
      ObjectNode change =
          list.addObject().put("op", c.op().name()).put("kind", c.kind()).put("name", c.name());
      if (c.op() == Change.Op.PUT) {
        change.set("body", c.body());
      }
    }
    return bytes(out);
  }

  static Entry entry(byte[] payload) {
    JsonNode in = tree(payload);
    long version = longAtLeast(in, "version", 1);
    JsonNode changes = in.get("changes");
    if (changes == null || !changes.isArray() || changes.isEmpty()) {
      throw new IllegalArgumentException("changes: " + changes + " (expected: a non-empty array)");
    }
    List<Change> out = new ArrayList<>(changes.size());
    for (int i = 0; i < changes.size(); i++) {
      JsonNode c = changes.get(i);
      String op = text(c, "op");
      String kind = text(c, "kind");
      String name = text(c, "name");
      Change change = switch (op) {
        case "PUT" -> new Change(Change.Op.PUT, kind, name, c.get("body"), OptionalLong.empty());
        case "DELETE" -> new Change(Change.Op.DELETE, kind, name, null, OptionalLong.empty());
        default ->
          throw new IllegalArgumentException(
              "changes[" + i + "].op: '" + op + "' (expected: PUT or DELETE)");
      };
      out.add(change);
    }
    return new Entry(version, out);
  }

  static byte[] snapshot(StoreState state) {
    ObjectNode out = JSON.createObjectNode().put("version", state.version());
    ArrayNode docs = out.putArray("documents");
    for (Map<String, StoredDocument> kind : state.byKind().values()) {
      for (StoredDocument d : kind.values()) {
        docs.addObject()
            .put("kind", d.kind())
            .put("name", d.name())
            .put("revision", d.revision())
            .set("body", d.body());
      }
    }
    return bytes(out);
  }

  static StoreState snapshot(byte[] payload) {
    JsonNode in = tree(payload);
    long version = longAtLeast(in, "version", 0);
    JsonNode docs = in.get("documents");
    if (docs == null || !docs.isArray()) {
      throw new IllegalArgumentException("documents: " + docs + " (expected: an array)");
    }
    Map<String, Map<String, StoredDocument>> byKind = new HashMap<>();
    for (JsonNode d : docs) {
      StoredDocument doc = new StoredDocument(
          text(d, "kind"), text(d, "name"), d.get("body"), longAtLeast(d, "revision", 1));
      if (byKind.computeIfAbsent(doc.kind(), k -> new HashMap<>()).put(doc.name(), doc) != null) {
        throw new IllegalArgumentException(
            doc.kind() + " '" + doc.name() + "': listed twice (expected: once)");
      }
    }
    return new StoreState(version, byKind);
  }

  private static JsonNode tree(byte[] payload) {
    try {
      JsonNode tree = JSON.readTree(payload);
      if (tree == null || !tree.isObject()) {
        throw new IllegalArgumentException("payload is not a JSON object");
      }
      return tree;
    } catch (IOException e) {
      throw new IllegalArgumentException("payload is not valid JSON: " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException("serializing JSON to bytes in memory failed", e);
    }
  }

  private static String text(JsonNode in, String field) {
    JsonNode v = in.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException(field + ": " + v + " (expected: a string)");
    }
    return v.asText();
  }

  private static long longAtLeast(JsonNode in, String field, long min) {
    JsonNode v = in.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
      throw new IllegalArgumentException(
          field + ": " + v + " (expected: an integer >= " + min + ")");
    }
    return v.asLong();
  }
}
