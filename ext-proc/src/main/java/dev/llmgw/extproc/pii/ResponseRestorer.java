package dev.llmgw.extproc.pii;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.server.ResponseRewriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Puts masked values back into what the client receives, and optionally masks personal data the
 * model produced in a non-streamed answer.
 *
 * <p>SSE: each event's delta fields ({@link Deltas}) go through one {@link TextRestorer} per channel,
 * so a placeholder split over events is restored, and only a placeholder's possible start is held.
 * Held text is released, as a minimal event of its channel, before the next event that is not a
 * delta. Every other string of every event (for example the full text of a {@code .done} event) has
 * its complete placeholders restored. An event with nothing to restore is forwarded byte for byte.
 */
final class ResponseRestorer implements ResponseRewriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LlmApi api;
  private final Vault vault;
  private final @Nullable UnaryOperator<String> responseMasker;
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  private int restored;

  private static final class Channel {
    final TextRestorer restorer;
    /** The latest event of the channel: the name and shape of what releasing held text writes. */
    String eventName;

    Deltas.Synthetic synthetic;

    Channel(TextRestorer restorer, String eventName, Deltas.Synthetic synthetic) {
      this.restorer = restorer;
      this.eventName = eventName;
      this.synthetic = synthetic;
    }
  }

  /**
   * @param vault this exchange's placeholders (may be empty when only masking the response)
   * @param responseMasker masks personal data in one text of a non-streamed answer, or null
   */
  ResponseRestorer(LlmApi api, Vault vault, @Nullable UnaryOperator<String> responseMasker) {
    this.api = api;
    this.vault = vault;
    this.responseMasker = responseMasker;
  }

  @Override
  public byte[] event(SseEvent event, byte[] raw) {
    if (vault.isEmpty() || (!holding() && !mayHavePlaceholder(event.data()))) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + 64);
    JsonNode data = event.json();
    if (data == null) {
      releaseHeld(out);
      out.writeBytes(raw);
      return out.toByteArray();
    }
    List<Deltas.Delta> deltas = Deltas.of(api, event.event(), data);
    boolean changed = false;
    if (deltas.isEmpty()) {
      releaseHeld(out);
      changed = restoreStrings(data, null);
    }
    for (Deltas.Delta delta : deltas) {
      Channel channel = channels.computeIfAbsent(
          delta.channel(),
          k -> new Channel(
              new TextRestorer(vault, delta.jsonFragment()), event.event(), delta.synthetic()));
      channel.eventName = event.event();
      channel.synthetic = delta.synthetic();
      String text = delta.text();
      String emitted = channel.restorer.push(text);
      if (!emitted.equals(text)) {
        delta.owner().put(delta.field(), emitted);
        changed = true;
      }
    }
    if (!changed) {
      out.writeBytes(raw);
    } else {
      writeEvent(out, event.event(), event.id(), data);
    }
    return out.toByteArray();
  }

  @Override
  public byte[] finish() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    releaseHeld(out);
    return out.toByteArray();
  }

  @Override
  public byte[] body(byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      return body;
    }
    if (root == null || !root.isContainerNode()) {
      return body;
    }
    boolean changed = restoreStrings(root, responseMasker);
    if (!changed) {
      return body;
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      return body;
    }
  }

  /** Placeholders restored so far (for metrics). */
  int restored() {
    int n = restored;
    for (Channel c : channels.values()) {
      n += c.restorer.restored();
    }
    return n;
  }

  private boolean holding() {
    for (Channel c : channels.values()) {
      if (c.restorer.holding()) {
        return true;
      }
    }
    return false;
  }

  /** Releases every channel's held text as it is, each as a minimal event of its channel. */
  private void releaseHeld(ByteArrayOutputStream out) {
    for (Channel c : channels.values()) {
      if (c.restorer.holding()) {
        writeEvent(out, c.eventName, "", c.synthetic.withText(c.restorer.flush()));
      }
    }
  }

  /**
   * Masks (when asked) and restores every string value under {@code node}; values of {@code arguments}
   * and {@code partial_json} are JSON text, so restored values are escaped for it.
   */
  private boolean restoreStrings(JsonNode node, @Nullable UnaryOperator<String> masker) {
    boolean changed = false;
    if (node instanceof ObjectNode o) {
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        JsonNode v = e.getValue();
        if (v.isTextual()) {
          boolean fragment = e.getKey().equals("arguments") || e.getKey().equals("partial_json");
          String after = restore(v.textValue(), fragment, masker);
          if (!after.equals(v.textValue())) {
            e.setValue(TextNode.valueOf(after));
            changed = true;
          }
        } else if (v.isContainerNode()) {
          changed |= restoreStrings(v, masker);
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        JsonNode v = a.get(i);
        if (v.isTextual()) {
          String after = restore(v.textValue(), false, masker);
          if (!after.equals(v.textValue())) {
            a.set(i, TextNode.valueOf(after));
            changed = true;
          }
        } else if (v.isContainerNode()) {
          changed |= restoreStrings(v, masker);
        }
      }
    }
    return changed;
  }

  private String restore(String text, boolean fragment, @Nullable UnaryOperator<String> masker) {
    String masked = masker == null ? text : masker.apply(text);
    if (vault.isEmpty()) {
      return masked;
    }
    TextRestorer r = new TextRestorer(vault, fragment);
    String out = r.push(masked) + r.flush();
    restored += r.restored();
    return out;
  }

  private static boolean mayHavePlaceholder(String data) {
    return data.indexOf('<') >= 0 || data.contains("\\u003c") || data.contains("\\u003C");
  }

  private static void writeEvent(ByteArrayOutputStream out, String name, String id, JsonNode data) {
    StringBuilder b = new StringBuilder(256);
    if (!name.isEmpty()) {
      b.append("event: ").append(name).append('\n');
    }
    if (!id.isEmpty()) {
      b.append("id: ").append(id).append('\n');
    }
    try {
      b.append("data: ").append(SseEvent.mapper().writeValueAsString(data)).append("\n\n");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("could not write an SSE event", e);
    }
    out.writeBytes(b.toString().getBytes(StandardCharsets.UTF_8));
  }
}
