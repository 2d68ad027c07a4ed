package dev.llmgw.extproc.sdk;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.Tool;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the request bodies the official OpenAI and Anthropic Java SDKs send, by pointing each
 * SDK at a local HTTP server that answers like the provider. The bodies are what a real client
 * puts on the wire, so ext-proc is tested against them instead of hand-written JSON.
 */
public final class SdkRecorder implements AutoCloseable {

  /** One recorded request. */
  public record Recorded(String name, String path, Map<String, String> headers, byte[] body) {}

  private final HttpServer server;
  private final Map<String, Recorded> recorded = new LinkedHashMap<>();
  private String current;

  public SdkRecorder() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      Map<String, String> headers = new LinkedHashMap<>();
      exchange
          .getRequestHeaders()
          .forEach(
              (k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
      String path = exchange.getRequestURI().getPath();
      recorded.put(current, new Recorded(current, path, Map.copyOf(headers), body));
      boolean stream = new String(body, StandardCharsets.UTF_8).contains("\"stream\":true");
      byte[] answer;
      String type;
      if (stream) {
        answer = resource(
            path.endsWith("/messages")
                ? "anthropic-messages-stream.sse"
                : "openai-chat-stream.sse");
        type = "text/event-stream";
      } else {
        answer = cannedJson(path).getBytes(StandardCharsets.UTF_8);
        type = "application/json";
      }
      exchange.getResponseHeaders().add("content-type", type);
      exchange.sendResponseHeaders(200, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    server.start();
  }

  /** Runs every SDK call this project replays and returns the bodies by name. */
  public Map<String, Recorded> recordAll() {
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    OpenAIClient openai = OpenAIOkHttpClient.builder()
        .baseUrl(base + "/v1")
        .apiKey("sk-test-not-a-key")
        .maxRetries(0)
        .build();
    AnthropicClient anthropic = AnthropicOkHttpClient.builder()
        .baseUrl(base)
        .apiKey("sk-ant-test-not-a-key")
        .maxRetries(0)
        .build();
    try {
      record(
          "openai-chat",
          () -> openai
              .chat()
              .completions()
              .create(ChatCompletionCreateParams.builder()
                  .model("fast")
                  .addSystemMessage("You are terse.")
                  .addUserMessage("Say hello in German, with an emoji 👋")
                  .temperature(0.2)
                  .maxCompletionTokens(64)
                  .build()));
      record("openai-chat-stream", () -> {
        try (var stream = openai
            .chat()
            .completions()
            .createStreaming(ChatCompletionCreateParams.builder()
                .model("fast")
                .addUserMessage("Stream please")
                .build())) {
          stream.stream().forEach((ChatCompletionChunk c) -> {});
        }
      });
      record(
          "openai-chat-tools",
          () -> openai
              .chat()
              .completions()
              .create(ChatCompletionCreateParams.builder()
                  .model("gpt-4o")
                  .addUserMessage("What's the weather in Köln?")
                  .addTool(ChatCompletionFunctionTool.builder()
                      .function(FunctionDefinition.builder()
                          .name("get_weather")
                          .description("Current weather for a city")
                          .parameters(FunctionParameters.builder()
                              .putAdditionalProperty("type", JsonValue.from("object"))
                              .putAdditionalProperty(
                                  "properties",
                                  JsonValue.from(Map.of("city", Map.of("type", "string"))))
                              .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                              .build())
                          .build())
                      .build())
                  .build()));
      record(
          "openai-embeddings",
          () -> openai
              .embeddings()
              .create(EmbeddingCreateParams.builder()
                  .model("embed")
                  .input("The quick brown fox")
                  .build()));
      record(
          "anthropic-messages",
          () -> anthropic
              .messages()
              .create(MessageCreateParams.builder()
                  .model("smart")
                  .maxTokens(128)
                  .system("Be brief.")
                  .addUserMessage("Hallo, wie geht's? 😀")
                  .build()));
      record("anthropic-messages-stream", () -> {
        try (StreamResponse<RawMessageStreamEvent> stream = anthropic
            .messages()
            .createStreaming(MessageCreateParams.builder()
                .model("smart")
                .maxTokens(64)
                .addUserMessage("Stream please")
                .build())) {
          stream.stream().forEach(e -> {});
        }
      });
      record(
          "anthropic-messages-tools",
          () -> anthropic
              .messages()
              .create(MessageCreateParams.builder()
                  .model("smart")
                  .maxTokens(128)
                  .addUserMessage("Weather in Paris?")
                  .addTool(Tool.builder()
                      .name("get_weather")
                      .description("Current weather")
                      .inputSchema(Tool.InputSchema.builder()
                          .properties(com.anthropic.core.JsonValue.from(
                              Map.of("city", Map.of("type", "string"))))
                          .putAdditionalProperty(
                              "required", com.anthropic.core.JsonValue.from(List.of("city")))
                          .build())
                      .build())
                  .build()));
    } finally {
      openai.close();
      anthropic.close();
    }
    return Map.copyOf(recorded);
  }

  private void record(String name, Runnable call) {
    current = name;
    call.run();
    if (!recorded.containsKey(name)) {
      throw new IllegalStateException("SDK call '" + name + "' sent no request");
    }
  }

  private static String cannedJson(String path) {
    if (path.endsWith("/embeddings")) {
      return "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.1,-0.2]}],"
          + "\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":4,\"total_tokens\":4}}";
    }
    if (path.endsWith("/messages")) {
      return "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\","
          + "\"content\":[{\"type\":\"text\",\"text\":\"Gut!\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
          + "\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}";
    }
    return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1732000000,\"model\":\"gpt-4o-mini\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hallo 👋\",\"refusal\":null},"
        + "\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,\"total_tokens\":23}}";
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = SdkRecorder.class.getResourceAsStream("/recorded/" + name)) {
      if (in == null) {
        throw new IOException("missing test resource /recorded/" + name);
      }
      return in.readAllBytes();
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
