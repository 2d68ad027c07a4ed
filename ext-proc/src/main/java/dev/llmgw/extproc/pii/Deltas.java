package dev.llmgw.extproc.pii;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.extproc.api.LlmApi;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the incremental text of a streamed response lives, per API: the fields of an SSE event that
 * carry the next piece of some output (a choice's content, a tool call's arguments, a content block's
 * text). Each piece belongs to a channel, so text split over several events can be put back together.
 */
final class Deltas {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /**
   * One delta field of an event.
   *
   * @param channel identifies the output the text continues (stable across the stream)
   * @param owner the object holding the field
   * @param field the field's name
   * @param jsonFragment whether the text is a piece of JSON (tool-call arguments)
   * @param synthetic builds a minimal event carrying other text on the same channel, for releasing
   *     held-back text when the channel ends
   */
  record Delta(
      String channel, ObjectNode owner, String field, boolean jsonFragment, Synthetic synthetic) {
    String text() {
      return owner.get(field).textValue();
    }
  }

  /** Makes the data of an event that carries {@code text} on a delta's channel. */
  @FunctionalInterface
  interface Synthetic {
    ObjectNode withText(String text);
  }

  private Deltas() {}

  /** The delta fields of one event's data, in order; empty for events that carry no incremental text. */
  static List<Delta> of(LlmApi api, String eventName, JsonNode data) {
    List<Delta> out = new ArrayList<>(1);
    if (!(data instanceof ObjectNode root)) {
      return out;
    }
    switch (api) {
      case OPENAI_CHAT_COMPLETIONS -> {
        for (JsonNode choice : array(root.get("choices"))) {
          int index = choice.path("index").asInt();
          if (choice.get("delta") instanceof ObjectNode delta) {
            if (delta.path("content").isTextual()) {
              out.add(new Delta(
                  "content/" + index,
                  delta,
                  "content",
                  false,
                  text -> chatChunk(root, index, NODES.objectNode().put("content", text))));
            }
            for (JsonNode call : array(delta.get("tool_calls"))) {
              if (call.get("function") instanceof ObjectNode fn
                  && fn.path("arguments").isTextual()) {
                int callIndex = call.path("index").asInt();
                out.add(
                    new Delta("tool/" + index + "/" + callIndex, fn, "arguments", true, text -> {
                      ObjectNode d = NODES.objectNode();
                      d.putArray("tool_calls")
                          .addObject()
                          .put("index", callIndex)
                          .putObject("function")
                          .put("arguments", text);
                      return chatChunk(root, index, d);
                    }));
              }
            }
          }
        }
      }
      case OPENAI_COMPLETIONS -> {
        for (JsonNode choice : array(root.get("choices"))) {
          if (choice instanceof ObjectNode c && c.path("text").isTextual()) {
            int index = c.path("index").asInt();
            out.add(new Delta("text/" + index, c, "text", false, text -> {
              ObjectNode copy = root.deepCopy();
              ObjectNode only = NODES.objectNode().put("index", index).put("text", text);
              only.putNull("logprobs");
              only.putNull("finish_reason");
              copy.putArray("choices").add(only);
              copy.remove("usage");
              return copy;
            }));
          }
        }
      }
      case ANTHROPIC_MESSAGES -> {
        if ("content_block_delta".equals(root.path("type").asText())
            && root.get("delta") instanceof ObjectNode delta) {
          int index = root.path("index").asInt();
          String type = delta.path("type").asText();
          String field = switch (type) {
            case "text_delta" -> "text";
            case "input_json_delta" -> "partial_json";
            case "thinking_delta" -> "thinking";
            default -> null;
          };
          if (field != null && delta.path(field).isTextual()) {
            out.add(new Delta(
                "block/" + index, delta, field, field.equals("partial_json"), text -> {
                  ObjectNode event =
                      NODES.objectNode().put("type", "content_block_delta").put("index", index);
                  event.putObject("delta").put("type", type).put(field, text);
                  return event;
                }));
          }
        }
      }
      case OPENAI_RESPONSES -> {
        String type = root.path("type").asText();
        boolean arguments = type.equals("response.function_call_arguments.delta");
        if ((arguments
                || type.equals("response.output_text.delta")
                || type.equals("response.refusal.delta"))
            && root.path("delta").isTextual()) {
          String channel = type + "/" + root.path("output_index").asInt() + "/"
              + root.path("content_index").asInt();
          out.add(new Delta(channel, root, "delta", arguments, text -> {
            ObjectNode copy = root.deepCopy();
            copy.put("delta", text);
            if (copy.has("logprobs")) {
              copy.putArray("logprobs");
            }
            return copy;
          }));
        }
      }
      case OPENAI_EMBEDDINGS -> {}
    }
    return out;
  }

  private static ObjectNode chatChunk(ObjectNode template, int index, ObjectNode delta) {
    ObjectNode copy = template.deepCopy();
    ObjectNode choice = NODES.objectNode().put("index", index);
    choice.set("delta", delta);
    choice.putNull("finish_reason");
    copy.putArray("choices").add(choice);
    if (copy.has("usage")) {
      copy.putNull("usage");
    }
    copy.remove("obfuscation");
    return copy;
  }

  static Iterable<JsonNode> array(JsonNode node) {
    return node instanceof ArrayNode a ? a : List.of();
  }
}
