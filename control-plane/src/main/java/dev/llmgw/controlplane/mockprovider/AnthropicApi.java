package dev.llmgw.controlplane.mockprovider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/** The Anthropic Messages endpoint: JSON and the named-event SSE stream, text or tool use. */
final class AnthropicApi {

  static final String MESSAGES = "/v1/messages";

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private AnthropicApi() {}

  static void messages(HttpExchange exchange, JsonNode request, Behaviour behaviour, long seq)
      throws IOException {
    JsonNode messages = request.path("messages");
    Answer answer = answer(request, messages, behaviour);
    int promptChars = Tokens.characters(text(request.path("system")));
    for (JsonNode message : messages) {
      promptChars += Tokens.characters(text(message.path("content")));
    }
    int inputTokens = Tokens.prompt(promptChars, messages.size());
    String id = "msg_mock_" + seq;
    String model = request.path("model").asText("mock-model");
    String stopReason = answer.isToolCall() ? "tool_use" : "end_turn";
    if (!request.path("stream").asBoolean(false)) {
      ObjectNode root = message(id, model);
      root.putArray("content")
          .add(answer.isToolCall() ? toolUse(answer) : textBlock(answer.text()));
      root.put("stop_reason", stopReason);
      root.putNull("stop_sequence");
      root.set("usage", usage(inputTokens, answer.tokens()));
      Wire.json(exchange, 200, root);
      return;
    }
    try (Wire.Sse sse = Wire.Sse.open(exchange)) {
      ObjectNode start = NODES.objectNode().put("type", "message_start");
      ObjectNode started = start.putObject("message").setAll(message(id, model));
      started.putNull("stop_reason");
      started.putNull("stop_sequence");
      started.set("usage", usage(inputTokens, 1));
      sse.event("message_start", start);

      ObjectNode blockStart =
          NODES.objectNode().put("type", "content_block_start").put("index", 0);
      blockStart.set("content_block", answer.isToolCall() ? toolUse(answer) : textBlock(""));
      sse.event("content_block_start", blockStart);
      String streamed = answer.isToolCall() ? Answer.TOOL_ARGUMENTS : answer.text();
      for (String piece : Tokens.chunks(streamed, behaviour.chunkChars())) {
        ObjectNode delta = NODES.objectNode().put("type", "content_block_delta").put("index", 0);
        if (answer.isToolCall()) {
          delta.putObject("delta").put("type", "input_json_delta").put("partial_json", piece);
        } else {
          delta.putObject("delta").put("type", "text_delta").put("text", piece);
        }
        sse.event("content_block_delta", delta);
      }
      sse.event(
          "content_block_stop",
          NODES.objectNode().put("type", "content_block_stop").put("index", 0));

      ObjectNode messageDelta = NODES.objectNode().put("type", "message_delta");
      messageDelta.putObject("delta").put("stop_reason", stopReason).putNull("stop_sequence");
      messageDelta.putObject("usage").put("output_tokens", answer.tokens());
      sse.event("message_delta", messageDelta);
      sse.event("message_stop", NODES.objectNode().put("type", "message_stop"));
    }
  }

  /**
   * Tool use when tools are offered, not switched off with {@code {"type":"none"}}, and the last
   * user turn does not carry a tool result (else the client would loop forever); text otherwise.
   */
  private static Answer answer(JsonNode request, JsonNode messages, Behaviour behaviour) {
    JsonNode lastUser = NODES.objectNode();
    for (JsonNode message : messages) {
      if (message.path("role").asText("").equals("user")) {
        lastUser = message;
      }
    }
    JsonNode tools = request.path("tools");
    JsonNode choice = request.path("tool_choice");
    if (tools.isArray()
        && !tools.isEmpty()
        && !choice.path("type").asText("").equals("none")
        && !hasToolResult(lastUser.path("content"))) {
      String forced =
          choice.path("type").asText("").equals("tool") ? choice.path("name").asText("") : "";
      return Answer.toolCall(
          !forced.isEmpty() ? forced : tools.get(0).path("name").asText("tool"));
    }
    return Answer.text(behaviour.answerTo(text(lastUser.path("content"))));
  }

  private static boolean hasToolResult(JsonNode content) {
    for (JsonNode block : content) {
      if (block.path("type").asText("").equals("tool_result")) {
        return true;
      }
    }
    return false;
  }

  /** String content, or the text blocks of an array content, concatenated as received. */
  private static String text(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode block : content) {
      if (block.path("type").asText("").equals("text")) {
        text.append(block.path("text").asText(""));
      }
    }
    return text.toString();
  }

  private static ObjectNode message(String id, String model) {
    ObjectNode message = NODES.objectNode();
    message.put("id", id);
    message.put("type", "message");
    message.put("role", "assistant");
    message.put("model", model);
    message.putArray("content");
    return message;
  }

  private static ObjectNode textBlock(String text) {
    return NODES.objectNode().put("type", "text").put("text", text);
  }

  private static ObjectNode toolUse(Answer answer) {
    ObjectNode block = NODES
        .objectNode()
        .put("type", "tool_use")
        .put("id", "toolu_mock_1")
        .put("name", answer.toolName());
    block.putObject("input");
    return block;
  }

  private static ObjectNode usage(int input, int output) {
    return NODES.objectNode().put("input_tokens", input).put("output_tokens", output);
  }
}
