package dev.llmgw.controlplane.mockprovider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MockProviderTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHAT = """
      {"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},\
      {"role":"user","content":"Hello, I am Alice Martin."}]}""";
  private static final String MESSAGES = """
      {"model":"claude-3-5-haiku-latest","max_tokens":100,"system":"Be brief.",\
      "messages":[{"role":"user","content":[{"type":"text","text":"Hello, I am Alice Martin."}]}]}""";
  private static final String WEATHER_TOOL = """
      [{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}},\
      {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]""";

  private final HttpClient http = HttpClient.newHttpClient();
  private final MockProvider provider = MockProvider.start("127.0.0.1", 0, Duration.ZERO);

  @AfterEach
  void stop() {
    provider.close();
  }

  @Test
  void chatCompletionEchoesTheLastUserMessageWithDeterministicUsage() throws Exception {
    HttpResponse<String> response = post("/v1/chat/completions", CHAT);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    assertThat(body.path("id").asText()).startsWith("chatcmpl-mock");
    assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
    JsonNode choice = body.path("choices").get(0);
    assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
    assertThat(choice.path("message").path("content").asText())
        .isEqualTo("Mock answer: Hello, I am Alice Martin.");
    assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
    // prompt: "Be brief." (9) + "Hello, I am Alice Martin." (25) = 34 chars -> 9, plus 3 per
    // message;
    // answer: 38 chars -> 10
    JsonNode usage = body.path("usage");
    assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(15);
    assertThat(usage.path("completion_tokens").asInt()).isEqualTo(10);
    assertThat(usage.path("total_tokens").asInt()).isEqualTo(25);
  }

  @Test
  void arrayContentIsEchoedFromItsTextParts() throws Exception {
    HttpResponse<String> response = post("/v1/chat/completions", """
        {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a<PERSON_1>"},\
        {"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"b"}]}]}""");

    assertThat(JSON.readTree(response.body()).at("/choices/0/message/content").asText())
        .isEqualTo("Mock answer: a<PERSON_1>b");
  }

  @Test
  void streamedChatConcatenatesToTheEchoAndEndsWithDoneWithoutUsageUnlessAsked() throws Exception {
    HttpResponse<String> response =
        post("/v1/chat/completions", CHAT.replace("{\"model\"", "{\"stream\":true,\"model\""));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
    List<String> data = dataLines(response.body());
    assertThat(data).last().isEqualTo("[DONE]");
    List<JsonNode> chunks = parse(data.subList(0, data.size() - 1));
    assertThat(chunks).allSatisfy(c -> {
      assertThat(c.path("object").asText()).isEqualTo("chat.completion.chunk");
      assertThat(c.has("usage")).isFalse();
    });
    assertThat(chunks.get(0).at("/choices/0/delta/role").asText()).isEqualTo("assistant");
    assertThat(chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText())
        .isEqualTo("stop");
    StringBuilder text = new StringBuilder();
    chunks.forEach(c -> text.append(c.at("/choices/0/delta/content").asText("")));
    assertThat(text).hasToString("Mock answer: Hello, I am Alice Martin.");
    // role, 38 characters in pieces of 8, finish
    assertThat(chunks).hasSize(1 + 5 + 1);
  }

  @Test
  void streamedChatEndsWithAUsageChunkWhenIncludeUsageIsSet() throws Exception {
    HttpResponse<String> response = post(
        "/v1/chat/completions",
        CHAT.replace(
            "{\"model\"",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"model\""));

    List<String> data = dataLines(response.body());
    assertThat(data).last().isEqualTo("[DONE]");
    JsonNode usageChunk = JSON.readTree(data.get(data.size() - 2));
    assertThat(usageChunk.path("choices").isArray()).isTrue();
    assertThat(usageChunk.path("choices")).isEmpty();
    assertThat(usageChunk.at("/usage/prompt_tokens").asInt()).isEqualTo(15);
    assertThat(usageChunk.at("/usage/completion_tokens").asInt()).isEqualTo(10);
    assertThat(usageChunk.at("/usage/total_tokens").asInt()).isEqualTo(25);
    assertThat(JSON.readTree(data.get(0)).path("usage").isNull()).isTrue();
  }

  @Test
  void multiByteTextIsStreamedWithoutSplittingCharacters() throws Exception {
    provider.sseChunkChars(1);
    HttpResponse<String> response = post("/v1/chat/completions", """
        {"model":"m","stream":true,"messages":[{"role":"user","content":"Zoë 👋 日本"}]}""");

    StringBuilder text = new StringBuilder();
    for (JsonNode chunk : parse(withoutDone(dataLines(response.body())))) {
      String piece = chunk.at("/choices/0/delta/content").asText("");
      assertThat(piece.codePointCount(0, piece.length())).isLessThanOrEqualTo(1);
      text.append(piece);
    }
    assertThat(text).hasToString("Mock answer: Zoë 👋 日本");
  }

  @Test
  void offeredToolsGetACallToTheFirstTool() throws Exception {
    HttpResponse<String> response = post(
        "/v1/chat/completions",
        "{\"model\":\"m\",\"tools\":" + WEATHER_TOOL
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}");

    JsonNode choice = JSON.readTree(response.body()).path("choices").get(0);
    assertThat(choice.path("finish_reason").asText()).isEqualTo("tool_calls");
    assertThat(choice.path("message").path("content").isNull()).isTrue();
    JsonNode call = choice.path("message").path("tool_calls").get(0);
    assertThat(call.path("id").asText()).isEqualTo("call_mock_1");
    assertThat(call.path("type").asText()).isEqualTo("function");
    assertThat(call.at("/function/name").asText()).isEqualTo("get_weather");
    assertThat(call.at("/function/arguments").asText()).isEqualTo("{}");
  }

  @Test
  void aToolResultOrToolChoiceNoneGetsATextAnswer() throws Exception {
    HttpResponse<String> afterResult = post(
        "/v1/chat/completions",
        "{\"model\":\"m\",\"tools\":" + WEATHER_TOOL
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"},{\"role\":\"assistant\",\"content\":null,"
            + "\"tool_calls\":[{\"id\":\"call_mock_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},"
            + "{\"role\":\"tool\",\"tool_call_id\":\"call_mock_1\",\"content\":\"sunny\"}]}");
    HttpResponse<String> none = post(
        "/v1/chat/completions",
        "{\"model\":\"m\",\"tool_choice\":\"none\",\"tools\":" + WEATHER_TOOL
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}");

    for (HttpResponse<String> response : List.of(afterResult, none)) {
      JsonNode choice = JSON.readTree(response.body()).path("choices").get(0);
      assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
      assertThat(choice.at("/message/content").asText()).isEqualTo("Mock answer: Weather?");
    }
  }

  @Test
  void streamedToolCallSendsIdAndNameFirstThenArgumentFragments() throws Exception {
    HttpResponse<String> response = post(
        "/v1/chat/completions",
        "{\"model\":\"m\",\"stream\":true,\"tools\":" + WEATHER_TOOL
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}");

    List<JsonNode> chunks = parse(withoutDone(dataLines(response.body())));
    JsonNode first = chunks.get(0).at("/choices/0/delta");
    assertThat(first.path("role").asText()).isEqualTo("assistant");
    assertThat(first.at("/tool_calls/0/index").asInt()).isZero();
    assertThat(first.at("/tool_calls/0/id").asText()).isEqualTo("call_mock_1");
    assertThat(first.at("/tool_calls/0/function/name").asText()).isEqualTo("get_weather");
    StringBuilder arguments = new StringBuilder();
    chunks.forEach(c -> arguments.append(
        c.at("/choices/0/delta/tool_calls/0/function/arguments").asText("")));
    assertThat(arguments).hasToString("{}");
    assertThat(chunks.get(1).at("/choices/0/delta/tool_calls/0/id").isMissingNode())
        .isTrue();
    assertThat(chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText())
        .isEqualTo("tool_calls");
  }

  @Test
  void anthropicMessageEchoesTheLastUserTextWithUsage() throws Exception {
    HttpResponse<String> response = post("/v1/messages", MESSAGES);

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("id").asText()).startsWith("msg_mock");
    assertThat(body.path("type").asText()).isEqualTo("message");
    assertThat(body.path("role").asText()).isEqualTo("assistant");
    assertThat(body.path("model").asText()).isEqualTo("claude-3-5-haiku-latest");
    assertThat(body.at("/content/0/type").asText()).isEqualTo("text");
    assertThat(body.at("/content/0/text").asText())
        .isEqualTo("Mock answer: Hello, I am Alice Martin.");
    assertThat(body.path("stop_reason").asText()).isEqualTo("end_turn");
    assertThat(body.path("stop_sequence").isNull()).isTrue();
    // system 9 + user 25 = 34 chars -> 9, plus 3 for the one message
    assertThat(body.at("/usage/input_tokens").asInt()).isEqualTo(12);
    assertThat(body.at("/usage/output_tokens").asInt()).isEqualTo(10);
  }

  @Test
  void anthropicStreamSendsTheEventsInTheRealOrder() throws Exception {
    HttpResponse<String> response =
        post("/v1/messages", MESSAGES.replace("{\"model\"", "{\"stream\":true,\"model\""));

    List<String[]> events = namedEvents(response.body());
    List<String> names = events.stream().map(e -> e[0]).toList();
    assertThat(names)
        .startsWith("message_start", "content_block_start")
        .endsWith("content_block_stop", "message_delta", "message_stop");
    assertThat(names.subList(2, names.size() - 3)).isNotEmpty().containsOnly("content_block_delta");
    StringBuilder text = new StringBuilder();
    for (String[] event : events) {
      JsonNode data = JSON.readTree(event[1]);
      assertThat(data.path("type").asText()).isEqualTo(event[0]);
      if (event[0].equals("content_block_delta")) {
        assertThat(data.at("/delta/type").asText()).isEqualTo("text_delta");
        text.append(data.at("/delta/text").asText());
      }
    }
    assertThat(text).hasToString("Mock answer: Hello, I am Alice Martin.");
    assertThat(JSON.readTree(events.get(0)[1]).at("/message/usage/input_tokens").asInt())
        .isEqualTo(12);
    JsonNode messageDelta = JSON.readTree(events.get(events.size() - 2)[1]);
    assertThat(messageDelta.at("/delta/stop_reason").asText()).isEqualTo("end_turn");
    assertThat(messageDelta.at("/usage/output_tokens").asInt()).isEqualTo(10);
  }

  @Test
  void anthropicToolsGetAToolUseBlockUntilAToolResultComesBack() throws Exception {
    String tools =
        ",\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}]}";
    HttpResponse<String> call =
        post("/v1/messages", MESSAGES.substring(0, MESSAGES.length() - 1) + tools);
    HttpResponse<String> afterResult = post(
        "/v1/messages",
        "{\"model\":\"c\",\"max_tokens\":10,\"messages\":["
            + "{\"role\":\"user\",\"content\":\"Weather?\"},"
            + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_mock_1\",\"name\":\"get_weather\",\"input\":{}}]},"
            + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_mock_1\",\"content\":\"sunny\"}]}]"
            + tools);

    JsonNode body = JSON.readTree(call.body());
    assertThat(body.path("stop_reason").asText()).isEqualTo("tool_use");
    assertThat(body.at("/content/0/type").asText()).isEqualTo("tool_use");
    assertThat(body.at("/content/0/id").asText()).isEqualTo("toolu_mock_1");
    assertThat(body.at("/content/0/name").asText()).isEqualTo("get_weather");
    assertThat(body.at("/content/0/input").isObject()).isTrue();
    assertThat(body.at("/content/0/input")).isEmpty();
    assertThat(JSON.readTree(afterResult.body()).path("stop_reason").asText())
        .isEqualTo("end_turn");
  }

  @Test
  void anthropicStreamedToolUseSendsInputJsonDeltas() throws Exception {
    String request = MESSAGES.replace("{\"model\"", "{\"stream\":true,\"model\"");
    HttpResponse<String> response = post(
        "/v1/messages",
        request.substring(0, request.length() - 1)
            + ",\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}]}");

    List<String[]> events = namedEvents(response.body());
    assertThat(JSON.readTree(events.get(1)[1]).at("/content_block/type").asText())
        .isEqualTo("tool_use");
    StringBuilder input = new StringBuilder();
    for (String[] event : events) {
      if (event[0].equals("content_block_delta")) {
        JsonNode delta = JSON.readTree(event[1]).path("delta");
        assertThat(delta.path("type").asText()).isEqualTo("input_json_delta");
        input.append(delta.path("partial_json").asText());
      }
    }
    assertThat(input).hasToString("{}");
    assertThat(JSON.readTree(events.get(events.size() - 2)[1])
            .at("/delta/stop_reason")
            .asText())
        .isEqualTo("tool_use");
  }

  @Test
  void embeddingsAreOneDeterministicUnitVectorPerInput() throws Exception {
    HttpResponse<String> response = post(
        "/v1/embeddings",
        "{\"model\":\"text-embedding-3-small\",\"input\":[\"alpha\",\"beta\",\"alpha\"]}");
    HttpResponse<String> single =
        post("/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":\"alpha\"}");

    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("object").asText()).isEqualTo("list");
    JsonNode data = body.path("data");
    assertThat(data).hasSize(3);
    assertThat(data.get(1).path("index").asInt()).isEqualTo(1);
    assertThat(data.get(0).path("object").asText()).isEqualTo("embedding");
    assertThat(data.get(0).path("embedding")).hasSize(8);
    assertThat(data.get(0).path("embedding")).isEqualTo(data.get(2).path("embedding"));
    assertThat(data.get(0).path("embedding")).isNotEqualTo(data.get(1).path("embedding"));
    assertThat(JSON.readTree(single.body()).at("/data/0/embedding"))
        .isEqualTo(data.get(0).path("embedding"));
    double norm = 0;
    for (JsonNode f : data.get(0).path("embedding")) {
      norm += f.asDouble() * f.asDouble();
    }
    assertThat(norm).isCloseTo(1.0, offset(1e-4));
    // "alpha" 5 -> 2, "beta" 4 -> 1, "alpha" -> 2
    assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(5);
    assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(5);
  }

  @Test
  void base64EmbeddingsDecodeToTheSameFloatsAsTheSdksExpect() throws Exception {
    JsonNode floats = JSON.readTree(
            post("/v1/embeddings", "{\"model\":\"e\",\"input\":\"alpha\"}").body())
        .at("/data/0/embedding");
    JsonNode base64 = JSON.readTree(post(
                "/v1/embeddings",
                "{\"model\":\"e\",\"input\":\"alpha\",\"encoding_format\":\"base64\"}")
            .body())
        .at("/data/0/embedding");

    ByteBuffer bytes =
        ByteBuffer.wrap(Base64.getDecoder().decode(base64.asText())).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode f : floats) {
      assertThat(bytes.getFloat()).isEqualTo(f.floatValue());
    }
    assertThat(bytes.hasRemaining()).isFalse();
  }

  @Test
  void modelsListsAFewIds() throws Exception {
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create(provider.baseUrl() + "/v1/models")).build(),
        HttpResponse.BodyHandlers.ofString());

    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("object").asText()).isEqualTo("list");
    assertThat(body.path("data").size()).isGreaterThanOrEqualTo(2);
    assertThat(body.at("/data/0/object").asText()).isEqualTo("model");
  }

  @Test
  void failNextFailsExactlyThatManyRequestsThenAnswersInEachApisErrorShape() throws Exception {
    provider.failNext(2, 503);

    HttpResponse<String> openAi = post("/v1/chat/completions", CHAT);
    HttpResponse<String> anthropic = post("/v1/messages", MESSAGES);
    HttpResponse<String> third = post("/v1/chat/completions", CHAT);

    assertThat(openAi.statusCode()).isEqualTo(503);
    JsonNode openAiError = JSON.readTree(openAi.body()).path("error");
    assertThat(openAiError.path("message").asText()).contains("503");
    assertThat(openAiError.path("type").asText()).isEqualTo("server_error");
    assertThat(openAiError.has("code")).isTrue();
    assertThat(anthropic.statusCode()).isEqualTo(503);
    JsonNode anthropicBody = JSON.readTree(anthropic.body());
    assertThat(anthropicBody.path("type").asText()).isEqualTo("error");
    assertThat(anthropicBody.at("/error/type").asText()).isEqualTo("overloaded_error");
    assertThat(anthropicBody.at("/error/message").asText()).contains("503");
    assertThat(third.statusCode()).isEqualTo(200);
  }

  @Test
  void failNextCountsDownExactlyUnderConcurrency() throws Exception {
    provider.failNext(7, 429);
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      inFlight.add(http.sendAsync(
          request("/v1/chat/completions", CHAT), HttpResponse.BodyHandlers.ofString()));
    }

    List<HttpResponse<String>> responses =
        inFlight.stream().map(CompletableFuture::join).toList();
    List<HttpResponse<String>> failed =
        responses.stream().filter(r -> r.statusCode() == 429).toList();
    assertThat(failed).hasSize(7).allSatisfy(r -> {
      assertThat(r.headers().firstValue("retry-after")).hasValue("1");
      assertThat(JSON.readTree(r.body()).at("/error/code").asText())
          .isEqualTo("rate_limit_exceeded");
    });
    assertThat(responses).filteredOn(r -> r.statusCode() == 200).hasSize(33);
  }

  @Test
  void failAllLastsUntilReset() throws Exception {
    provider.failAll(529);

    assertThat(post("/v1/messages", MESSAGES).statusCode()).isEqualTo(529);
    assertThat(post("/v1/messages", MESSAGES).statusCode()).isEqualTo(529);
    assertThat(JSON.readTree(post("/v1/messages", MESSAGES).body())
            .at("/error/type")
            .asText())
        .isEqualTo("overloaded_error");
    provider.reset();
    assertThat(post("/v1/messages", MESSAGES).statusCode()).isEqualTo(200);
  }

  @Test
  void delayHoldsTheAnswerBack() throws Exception {
    Duration delay = Duration.ofMillis(300);
    provider.delay(delay);

    long started = System.nanoTime();
    HttpResponse<String> response = post("/v1/chat/completions", CHAT);
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(elapsed).isGreaterThanOrEqualTo(delay);
  }

  @Test
  void latencyFromStartIsTheBaseUnderTheDelay() throws Exception {
    Duration latency = Duration.ofMillis(200);
    try (MockProvider slow = MockProvider.start("127.0.0.1", 0, latency)) {
      slow.delay(Duration.ofMillis(100));
      long started = System.nanoTime();
      HttpResponse<String> response = http.send(
          HttpRequest.newBuilder(URI.create(slow.baseUrl() + "/v1/models")).build(),
          HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
  }

  @Test
  void answerWithAndChunkSizeApplyUntilReset() throws Exception {
    provider.answerWith("Fixed reply.");
    provider.sseChunkChars(3);

    assertThat(JSON.readTree(post("/v1/chat/completions", CHAT).body())
            .at("/choices/0/message/content")
            .asText())
        .isEqualTo("Fixed reply.");
    List<JsonNode> chunks = parse(withoutDone(dataLines(
        post("/v1/chat/completions", CHAT.replace("{\"model\"", "{\"stream\":true,\"model\""))
            .body())));
    assertThat(chunks).hasSize(1 + 4 + 1);
    assertThat(chunks.get(1).at("/choices/0/delta/content").asText()).isEqualTo("Fix");

    provider.reset();
    assertThat(JSON.readTree(post("/v1/chat/completions", CHAT).body())
            .at("/choices/0/message/content")
            .asText())
        .isEqualTo("Mock answer: Hello, I am Alice Martin.");
  }

  @Test
  void everyRequestIsRecordedBeforeItIsAnsweredFailedOnesIncluded() throws Exception {
    provider.failNext(1, 500);
    post("/v1/chat/completions?trace=1", CHAT);
    http.send(
        HttpRequest.newBuilder(URI.create(provider.baseUrl() + "/v1/messages"))
            .header("X-Api-Key", "sk-ant-test")
            .POST(HttpRequest.BodyPublishers.ofString(MESSAGES))
            .build(),
        HttpResponse.BodyHandlers.ofString());

    List<MockProvider.Received> received = provider.received();
    assertThat(received).hasSize(2);
    MockProvider.Received first = received.get(0);
    assertThat(first.method()).isEqualTo("POST");
    assertThat(first.path()).isEqualTo("/v1/chat/completions?trace=1");
    assertThat(first.bodyText()).isEqualTo(CHAT);
    assertThat(first.headers()).containsKey("content-type");
    assertThat(first.headers().keySet()).allSatisfy(name -> assertThat(name).isLowerCase());
    assertThat(received.get(1).path()).isEqualTo("/v1/messages");
    assertThat(received.get(1).headers().get("x-api-key")).containsExactly("sk-ant-test");

    provider.clearReceived();
    assertThat(provider.received()).isEmpty();
    assertThat(received).hasSize(2);
  }

  @Test
  void unknownPathGetsAnOpenAiShapedNotFoundNamingThePath() throws Exception {
    HttpResponse<String> response = post("/v1/completions", CHAT);

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(response.body()).at("/error/message").asText())
        .contains("/v1/completions");
  }

  @Test
  void malformedJsonGetsA400InThePathsErrorShape() throws Exception {
    HttpResponse<String> openAi = post("/v1/chat/completions", "{\"model\":");
    HttpResponse<String> anthropic = post("/v1/messages", "not json");

    assertThat(openAi.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(openAi.body()).at("/error/type").asText())
        .isEqualTo("invalid_request_error");
    assertThat(anthropic.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(anthropic.body()).at("/error/type").asText())
        .isEqualTo("invalid_request_error");
    assertThat(JSON.readTree(anthropic.body()).path("type").asText()).isEqualTo("error");
  }

  @Test
  void closeStopsAtOnceEvenWithASlowAnswerInFlight() {
    provider.delay(Duration.ofMinutes(5));
    CompletableFuture<HttpResponse<String>> slow =
        http.sendAsync(request("/v1/chat/completions", CHAT), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(10)).until(() -> provider.received().size() == 1);

    long started = System.nanoTime();
    provider.close();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(slow).failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void baseUrlIsLoopbackWithTheBoundPort() {
    assertThat(provider.baseUrl()).isEqualTo("http://127.0.0.1:" + provider.port());
    assertThat(provider.port()).isPositive();
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(request(path, body), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest request(String path, String body) {
    return HttpRequest.newBuilder(URI.create(provider.baseUrl() + path))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  /** The {@code data:} payloads of an SSE body, in order. */
  private static List<String> dataLines(String body) {
    return body.lines()
        .filter(l -> l.startsWith("data: "))
        .map(l -> l.substring(6))
        .toList();
  }

  private static List<String> withoutDone(List<String> data) {
    assertThat(data).last().isEqualTo("[DONE]");
    return data.subList(0, data.size() - 1);
  }

  private static List<JsonNode> parse(List<String> data) throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String d : data) {
      nodes.add(JSON.readTree(d));
    }
    return nodes;
  }

  /** {@code [event name, data]} of each event of an SSE body with {@code event:} lines. */
  private static List<String[]> namedEvents(String body) {
    List<String[]> events = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      String[] lines = block.split("\n");
      assertThat(lines).hasSize(2);
      assertThat(lines[0]).startsWith("event: ");
      assertThat(lines[1]).startsWith("data: ");
      events.add(new String[] {lines[0].substring(7), lines[1].substring(6)});
    }
    return events;
  }
}
