package dev.llmgw.controlplane.mockprovider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The OpenAI endpoints: Chat Completions (JSON and SSE, text or tool call), Embeddings and Models. */
final class OpenAiApi {

  static final String CHAT_COMPLETIONS = "/v1/chat/completions";
  static final String EMBEDDINGS = "/v1/embeddings";
  static final String MODELS = "/v1/models";

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int EMBEDDING_DIMENSIONS = 8;

  private OpenAiApi() {}

  static void chat(HttpExchange exchange, JsonNode request, Behaviour behaviour, long seq)
      throws IOException {
    JsonNode messages = request.path("messages");
    Answer answer = answer(request, messages, behaviour);
    int promptChars = 0;
    for (JsonNode message : messages) {
      promptChars += Tokens.characters(text(message.path("content")));
    }
    Usage usage = new Usage(Tokens.prompt(promptChars, messages.size()), answer.tokens());
    Completion completion = new Completion(
        "chatcmpl-mock-" + seq,
        Instant.now().getEpochSecond(),
        request.path("model").asText("mock-model"));
    if (!request.path("stream").asBoolean(false)) {
      Wire.json(exchange, 200, completion.whole(answer, usage));
      return;
    }
    boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
    try (Wire.Sse sse = Wire.Sse.open(exchange)) {
      for (ObjectNode chunk : completion.chunks(answer, behaviour.chunkChars())) {
        if (includeUsage) {
          chunk.putNull("usage");
        }
        sse.data(chunk);
      }
      if (includeUsage) {
        ObjectNode last = completion.chunk();
        last.putArray("choices");
        last.set("usage", usage.json());
        sse.data(last);
      }
      sse.done();
    }
  }

  static void embeddings(HttpExchange exchange, JsonNode request) throws IOException {
    List<String> inputs = inputs(request.path("input"));
    boolean base64 = request.path("encoding_format").asText("float").equals("base64");
    ObjectNode root = NODES.objectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    int tokens = 0;
    for (int i = 0; i < inputs.size(); i++) {
      float[] vector = embedding(inputs.get(i));
      ObjectNode item = data.addObject();
      item.put("object", "embedding");
      item.put("index", i);
      if (base64) {
        // The official SDKs ask for base64 by default and decode little-endian float32 themselves.
        ByteBuffer bytes = ByteBuffer.allocate(4 * vector.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : vector) {
          bytes.putFloat(f);
        }
        item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
      } else {
        ArrayNode floats = item.putArray("embedding");
        for (float f : vector) {
          floats.add(f);
        }
      }
      tokens += Tokens.of(inputs.get(i));
    }
    root.put("model", request.path("model").asText("mock-embedding"));
    ObjectNode usage = root.putObject("usage");
    usage.put("prompt_tokens", tokens);
    usage.put("total_tokens", tokens);
    Wire.json(exchange, 200, root);
  }

  static void models(HttpExchange exchange) throws IOException {
    ObjectNode root = NODES.objectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    for (String id : List.of("gpt-4o-mini", "text-embedding-3-small", "claude-3-5-haiku-latest")) {
      ObjectNode model = data.addObject();
      model.put("id", id);
      model.put("object", "model");
      model.put("created", 1700000000L);
      model.put("owned_by", "llmgw-mock");
    }
    Wire.json(exchange, 200, root);
  }

  /**
   * A tool call when tools are offered, not switched off with {@code "none"}, and the conversation
   * does not end with a tool result (else the client would loop forever); text otherwise.
   */
  private static Answer answer(JsonNode request, JsonNode messages, Behaviour behaviour) {
    JsonNode tools = request.path("tools");
    JsonNode choice = request.path("tool_choice");
    JsonNode last = messages.path(messages.size() - 1);
    if (tools.isArray()
        && !tools.isEmpty()
        && !choice.asText("").equals("none")
        && !last.path("role").asText("").equals("tool")) {
      String forced = choice.path("function").path("name").asText("");
      JsonNode first = tools.get(0);
      return Answer.toolCall(
          !forced.isEmpty()
              ? forced
              : first.path("function").path("name").asText(first.path("name").asText("tool")));
    }
    String lastUser = "";
    for (JsonNode message : messages) {
      if (message.path("role").asText("").equals("user")) {
        lastUser = text(message.path("content"));
      }
    }
    return Answer.text(behaviour.answerTo(lastUser));
  }

  /** A message's text: string content, or the text parts of an array content, concatenated as received. */
  private static String text(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode part : content) {
      if (part.path("type").asText("").equals("text")) {
        text.append(part.path("text").asText(""));
      }
    }
    return text.toString();
  }

  /** One input per string; an array of token ids is one input, as the API reads it. */
  private static List<String> inputs(JsonNode input) {
    List<String> inputs = new ArrayList<>();
    if (input.isTextual()) {
      inputs.add(input.asText());
    } else if (input.isArray() && !input.isEmpty() && input.get(0).isNumber()) {
      inputs.add(input.toString());
    } else {
      for (JsonNode item : input) {
        inputs.add(item.isTextual() ? item.asText() : item.toString());
      }
    }
    return inputs;
  }

  /** A unit vector from the text's SHA-256: the same text always embeds the same. */
  static float[] embedding(String text) {
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
    ByteBuffer bits = ByteBuffer.wrap(hash);
    float[] vector = new float[EMBEDDING_DIMENSIONS];
    double norm = 0;
    for (int i = 0; i < vector.length; i++) {
      vector[i] = bits.getInt() / (float) Integer.MAX_VALUE;
      norm += vector[i] * vector[i];
    }
    for (int i = 0; i < vector.length; i++) {
      vector[i] = (float) (vector[i] / Math.sqrt(norm));
    }
    return vector;
  }

  /** Token counts in OpenAI's names. */
  private record Usage(int prompt, int completion) {
    ObjectNode json() {
      ObjectNode usage = NODES.objectNode();
      usage.put("prompt_tokens", prompt);
      usage.put("completion_tokens", completion);
      usage.put("total_tokens", prompt + completion);
      return usage;
    }
  }

  /** The fields every object of one completion shares, and the objects built from them. */
  private record Completion(String id, long created, String model) {

    ObjectNode whole(Answer answer, Usage usage) {
      ObjectNode root = header("chat.completion");
      ObjectNode choice = root.putArray("choices").addObject();
      choice.put("index", 0);
      ObjectNode message = choice.putObject("message");
      message.put("role", "assistant");
      if (answer.isToolCall()) {
        message.putNull("content");
        ObjectNode call = message.putArray("tool_calls").addObject();
        call.put("id", "call_mock_1");
        call.put("type", "function");
        call.putObject("function")
            .put("name", answer.toolName())
            .put("arguments", Answer.TOOL_ARGUMENTS);
      } else {
        message.put("content", answer.text());
      }
      choice.putNull("logprobs");
      choice.put("finish_reason", answer.isToolCall() ? "tool_calls" : "stop");
      root.set("usage", usage.json());
      return root;
    }

    /** Role first, then the content (or the call's name, then its argument fragments), then the finish reason. */
    List<ObjectNode> chunks(Answer answer, int chunkChars) {
      List<ObjectNode> chunks = new ArrayList<>();
      ObjectNode first = delta(chunks);
      first.put("role", "assistant");
      if (answer.isToolCall()) {
        first.putNull("content");
        ObjectNode call = first.putArray("tool_calls").addObject();
        call.put("index", 0);
        call.put("id", "call_mock_1");
        call.put("type", "function");
        call.putObject("function").put("name", answer.toolName()).put("arguments", "");
        for (String piece : Tokens.chunks(Answer.TOOL_ARGUMENTS, chunkChars)) {
          ObjectNode fragment = delta(chunks).putArray("tool_calls").addObject();
          fragment.put("index", 0);
          fragment.putObject("function").put("arguments", piece);
        }
      } else {
        first.put("content", "");
        for (String piece : Tokens.chunks(answer.text(), chunkChars)) {
          delta(chunks).put("content", piece);
        }
      }
      delta(chunks, answer.isToolCall() ? "tool_calls" : "stop");
      return chunks;
    }

    ObjectNode chunk() {
      return header("chat.completion.chunk");
    }

    /** Appends a chunk with one choice and returns that choice's (empty) delta. */
    private ObjectNode delta(List<ObjectNode> chunks) {
      return delta(chunks, null);
    }

    private ObjectNode delta(List<ObjectNode> chunks, @Nullable String finishReason) {
      ObjectNode chunk = chunk();
      ObjectNode choice = chunk.putArray("choices").addObject();
      choice.put("index", 0);
      ObjectNode delta = choice.putObject("delta");
      choice.putNull("logprobs");
      if (finishReason == null) {
        choice.putNull("finish_reason");
      } else {
        choice.put("finish_reason", finishReason);
      }
      chunks.add(chunk);
      return delta;
    }

    private ObjectNode header(String object) {
      ObjectNode root = NODES.objectNode();
      root.put("id", id);
      root.put("object", object);
      root.put("created", created);
      root.put("model", model);
      return root;
    }
  }
}
