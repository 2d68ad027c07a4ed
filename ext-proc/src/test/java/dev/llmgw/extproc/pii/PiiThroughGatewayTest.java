package dev.llmgw.extproc.pii;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.ReleasedChunk;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.tokens.TokenCounting;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** PII masking and restoring end to end: the real ext-proc, driven as Envoy drives it. */
class PiiThroughGatewayTest {

  static final String POLICY = """
      version: "pii-1"
      include_stream_usage: false
      models:
        fast: { route: openai, model: gpt-4o-mini }
        claude: { route: anthropic, model: claude-sonnet-4-5 }
        strict: { route: strict, model: gpt-4o }
        lenient: { route: lenient, model: gpt-4o }
        scanned: { route: scanned, model: gpt-4o }
      pii:
        default:
          entities: { email: mask, phone: mask, credit_card: mask, iban: mask, us_ssn: mask, ip_address: mask, secret: mask }
        routes:
          strict:
            entities: { email: mask, credit_card: block, secret: block }
            block_status: 403
          lenient:
            entities: { email: mask }
            on_error: allow
          scanned:
            entities: { email: mask }
            response: flag
        tenants:
          redactor: { entities: { email: redact, phone: hash } }
      """;

  static final String EMAIL = "alice.smith@example.com";
  static final String EMAIL2 = "bob@example.org";
  private static final ObjectMapper JSON = new ObjectMapper();

  private GatewayExchange gw;

  private GatewayExchange gateway(
      Function<java.util.Set<EntityType>, PiiProtection.TextScanner> scanners) throws Exception {
    GatewayPolicy policy = PolicyLoader.parse(POLICY, "test");
    gw = new GatewayExchange(
        policy,
        registry -> List.of(
            scanners == null
                ? PiiProtection.listener(
                    registry, "0123456789abcdef".getBytes(StandardCharsets.UTF_8))
                : PiiProtection.withScanners(
                    registry, "0123456789abcdef".getBytes(StandardCharsets.UTF_8), scanners),
            TokenCounting.listener(registry)));
    return gw;
  }

  @AfterEach
  void close() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  /**
   * Issue 18, finding 1: a second key of the same name used to hide a secret or personal data from
   * the checks (the gateway read the last value; the original bytes, first value included, went
   * upstream). Every such body is now refused before any check or forwarding.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "secret hidden behind a second content|/v1/chat/completions|{\"model\":\"strict\",\"messages\":[{\"role\":\"user\",\"content\":\"key AKIAIOSFODNN7EXAMPLE token ghp_0123456789abcdefghijABCDEFGHIJ012345\",\"content\":\"hi\"}]}|/messages/0/content",
        "two messages arrays|/v1/chat/completions|{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"alice.smith@example.com 4111 1111 1111 1111\"}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}|/messages",
        "two Anthropic system prompts|/v1/messages|{\"model\":\"claude\",\"max_tokens\":10,\"system\":\"mail alice.smith@example.com\",\"system\":\"be brief\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}|/system",
        "two models|/v1/chat/completions|{\"model\":\"gpt-4-32k\",\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}|/model"
      })
  void aRepeatedKeyIsRefusedAndNothingIsForwarded(
      String attack, String path, String body, String pointer) throws Exception {
    AtomicReference<String> sent = new AtomicReference<>();
    ExchangeResult r = gateway(null).exchange(GatewayExchange.post(path, body).build(), request -> {
      sent.set(request.bodyUtf8());
      return UpstreamResponse.ok("application/json", completion("ok"));
    });

    assertThat(sent.get()).isNull();
    assertThat(r.clientResponse().status()).isEqualTo(400);
    JsonNode error = JSON.readTree(r.clientResponse().bodyUtf8()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("message").asText())
        .contains("repeats the key")
        .contains(pointer)
        .contains("expected: each key at most once");
    if (!path.equals("/v1/messages")) {
      assertThat(error.path("code").asText()).isEqualTo("duplicate_key");
    } else {
      assertThat(JSON.readTree(r.clientResponse().bodyUtf8()).path("type").asText())
          .as("Anthropic's error shape")
          .isEqualTo("error");
    }
  }

  @Test
  void noOriginalValueReachesUpstreamAndTheJsonAnswerGetsThemBack() throws Exception {
    String body = chat("fast", "Write to " + EMAIL + " and copy " + EMAIL2 + "; again: " + EMAIL);
    AtomicReference<String> sent = new AtomicReference<>();
    ExchangeResult r = gateway(null)
        .exchange(GatewayExchange.post("/v1/chat/completions", body).build(), request -> {
          sent.set(request.bodyUtf8());
          String prompt = tree(request.bodyUtf8()).at("/messages/0/content").asText();
          return UpstreamResponse.ok("application/json", completion("Sure. You said: " + prompt));
        });

    assertThat(sent.get())
        .doesNotContain(EMAIL)
        .doesNotContain(EMAIL2)
        .contains("<EMAIL_1>")
        .contains("<EMAIL_2>");
    assertThat(JSON.readTree(sent.get()).at("/messages/0/content").asText())
        .as("the same value gets the same placeholder")
        .isEqualTo("Write to <EMAIL_1> and copy <EMAIL_2>; again: <EMAIL_1>");
    assertThat(r.upstream().headers().get("content-length"))
        .contains(Integer.toString(sent.get().getBytes(StandardCharsets.UTF_8).length));
    assertThat(JSON.readTree(r.clientResponse().bodyUtf8())
            .at("/choices/0/message/content")
            .asText())
        .isEqualTo(
            "Sure. You said: Write to " + EMAIL + " and copy " + EMAIL2 + "; again: " + EMAIL);
    Map<String, com.google.protobuf.Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("pii_types").getStringValue()).isEqualTo("email");
    assertThat(meta.get("pii_found").getNumberValue()).isEqualTo(3);
    assertThat(meta.get("pii_restored").getNumberValue()).isEqualTo(3);
    assertThat(meta.toString()).doesNotContain(EMAIL);
  }

  @Test
  void everyTextFieldOfEveryShapeIsMaskedAndStructuralFieldsAreNot() throws Exception {
    gateway(null);
    Map<String, String> bodies = Map.of(
        "/v1/chat/completions", """
            {"model":"fast","messages":[{"role":"system","content":"Operator: %1$s"},
            {"role":"user","content":[{"type":"text","text":"mail %1$s"},{"type":"image_url","image_url":{"url":"https://x.test/%1$s.png"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"send","arguments":"{\\"to\\":\\"%1$s\\"}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"sent to %1$s"}]}""",
        "/v1/messages", """
            {"model":"claude","max_tokens":10,"system":[{"type":"text","text":"Owner %1$s"}],"messages":[
            {"role":"user","content":"hi %1$s"},
            {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"send","input":{"to":"%1$s","cc":["%1$s"]}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"ok %1$s"}]}]}]}""",
        "/v1/responses", """
            {"model":"fast","instructions":"Reply to %1$s","input":[{"role":"user","content":[{"type":"input_text","text":"I am %1$s"}]},
            {"type":"function_call","call_id":"c1","name":"send","arguments":"{\\"to\\":\\"%1$s\\"}"},
            {"type":"function_call_output","call_id":"c1","output":"done for %1$s"}]}""",
        "/v1/embeddings", """
            {"model":"fast","input":["%1$s","plain"]}""",
        "/v1/completions", """
            {"model":"fast","prompt":"Dear %1$s"}""");
    for (Map.Entry<String, String> e : bodies.entrySet()) {
      String body = e.getValue().formatted(EMAIL);
      AtomicReference<String> sent = new AtomicReference<>();
      ExchangeResult r = gw.exchange(GatewayExchange.post(e.getKey(), body).build(), request -> {
        sent.set(request.bodyUtf8());
        return UpstreamResponse.ok("application/json", "{}");
      });
      assertThat(r.clientResponse().status()).as(e.getKey()).isEqualTo(200);
      String upstream = sent.get();
      if (e.getKey().equals("/v1/chat/completions")) {
        // The image URL is structural: it is a reference, not text the model reads.
        assertThat(upstream.replace("https://x.test/" + EMAIL + ".png", ""))
            .as(e.getKey())
            .doesNotContain(EMAIL);
      } else {
        assertThat(upstream).as(e.getKey()).doesNotContain(EMAIL);
      }
      assertThat(upstream).as(e.getKey()).contains("<EMAIL_1>");
      JsonNode tree = JSON.readTree(upstream);
      assertThat(tree.path("model").asText()).isNotEmpty();
      if (e.getKey().equals("/v1/chat/completions")) {
        assertThat(tree.at("/messages/2/tool_calls/0/function/arguments").asText())
            .isEqualTo("{\"to\":\"<EMAIL_1>\"}");
        assertThat(tree.at("/messages/3/tool_call_id").asText()).isEqualTo("call_1");
      }
      if (e.getKey().equals("/v1/messages")) {
        assertThat(tree.at("/messages/1/content/0/input/cc/0").asText()).isEqualTo("<EMAIL_1>");
      }
    }
  }

  @Test
  void aStreamedPlaceholderSplitOverEventsAtEveryCharacterIsRestored() throws Exception {
    gateway(null);
    String answer = "Contact <EMAIL_1> or <EMAIL_2>, not <EMAIL_3> and 3 < 4 <b>.";
    String expected = "Contact " + EMAIL + " or " + EMAIL2 + ", not <EMAIL_3> and 3 < 4 <b>.";
    for (int cut = 1; cut < answer.length(); cut++) {
      List<String> pieces = List.of(answer.substring(0, cut), answer.substring(cut));
      ExchangeResult r = streamChat(pieces);
      assertThat(clientText(r)).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void aStreamSplitAtEveryByteOfTheWireIsRestored() throws Exception {
    gateway(null);
    List<String> pieces = List.of("Hi <EM", "AIL_1>", " and <EMAIL", "_2>!");
    String wire = String.join("", sseChat(pieces));
    byte[] bytes = wire.getBytes(StandardCharsets.UTF_8);
    for (int cut = 1; cut < bytes.length; cut++) {
      UpstreamResponse response = UpstreamResponse.builder(200)
          .header("content-type", "text/event-stream")
          .chunk(ByteString.copyFrom(bytes, 0, cut))
          .chunk(ByteString.copyFrom(bytes, cut, bytes.length - cut))
          .build();
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", streamingChat()).build(),
          Upstream.returning(response));
      assertThat(clientText(r))
          .as("cut at byte %d", cut)
          .isEqualTo("Hi " + EMAIL + " and " + EMAIL2 + "!");
    }
  }

  @Test
  void oneCharacterPerEventIsHeldBackNoLongerThanThePlaceholder() throws Exception {
    gateway(null);
    String answer = "Mail <EMAIL_1> now, <EMAIL_2> later; <EM is not one.";
    List<String> pieces = new ArrayList<>();
    for (char c : answer.toCharArray()) {
      pieces.add(String.valueOf(c));
    }
    ExchangeResult r = streamChat(pieces);
    assertThat(clientText(r))
        .isEqualTo("Mail " + EMAIL + " now, " + EMAIL2 + " later; <EM is not one.");

    // After upstream event i, what the client has (with values turned back into placeholders) is
    // the
    // provider's text so far minus a suffix shorter than the longest placeholder.
    int longest = "<EMAIL_2>".length();
    List<ReleasedChunk> released = r.clientResponse().chunks();
    for (int i = 0; i < pieces.size(); i++) {
      int upTo = i + 1; // upstream chunk 0 is the role chunk
      ByteArrayOutputStream soFar = new ByteArrayOutputStream();
      released.stream()
          .filter(c -> c.afterSourceChunk() <= upTo)
          .forEach(c -> soFar.writeBytes(c.data().toByteArray()));
      String client =
          textOf(soFar.toByteArray()).replace(EMAIL, "<EMAIL_1>").replace(EMAIL2, "<EMAIL_2>");
      String provider = String.join("", pieces.subList(0, i + 1));
      assertThat(provider).as("after event %d", i).startsWith(client);
      assertThat(provider.length() - client.length())
          .as("held after event %d", i)
          .isLessThan(longest);
    }
  }

  @Test
  void onlyTheChunksThatChangeCarryABodyMutation() throws Exception {
    gateway(null);
    List<String> pieces = List.of("Hello ", "there, ", "write to <EMAIL_1>", " today.");
    ExchangeResult r = streamChat(pieces);
    assertThat(clientText(r)).isEqualTo("Hello there, write to " + EMAIL + " today.");

    List<Boolean> mutated = r.responsesFromProcessor().stream()
        .filter(ProcessingResponse::hasResponseBody)
        .map(p -> p.getResponseBody().getResponse().hasBodyMutation())
        .toList();
    // Upstream chunks: the role chunk, the four pieces, the finish chunk and [DONE], one event
    // each.
    // Only the event that held the placeholder changed; the others went on as they came.
    assertThat(mutated).containsExactly(false, false, false, true, false, false, false);
  }

  @Test
  void anthropicStreamsRestoreTextAndToolInput() throws Exception {
    gateway(null);
    String body = """
        {"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"I am %s"}]}""".formatted(EMAIL);
    List<String> events = new ArrayList<>();
    events.add(
        anthropic(
            "message_start",
            "{\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}"));
    events.add(
        anthropic(
            "content_block_start",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
    for (String piece : List.of("Hello <EMA", "IL_1", ">!")) {
      events.add(anthropic(
          "content_block_delta",
          "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
              + JSON.writeValueAsString(piece) + "}}"));
    }
    events.add(anthropic("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
    events.add(
        anthropic(
            "content_block_start",
            "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"send\",\"input\":{}}}"));
    for (String piece : List.of("{\"to\": \"<EMAIL", "_1>\"}")) {
      events.add(anthropic(
          "content_block_delta",
          "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
              + JSON.writeValueAsString(piece) + "}}"));
    }
    events.add(anthropic("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"));
    events.add(anthropic("message_stop", "{\"type\":\"message_stop\"}"));
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/messages", body).build(),
        Upstream.returning(
            UpstreamResponse.ok("text/event-stream", events.toArray(String[]::new))));

    StringBuilder text = new StringBuilder();
    StringBuilder json = new StringBuilder();
    for (SseEvent e : events(r.clientResponse().body().toByteArray())) {
      JsonNode d = JSON.readTree(e.data());
      if (d.path("type").asText().equals("content_block_delta")) {
        assertThat(e.event()).isEqualTo("content_block_delta");
        text.append(d.at("/delta/text").asText(""));
        json.append(d.at("/delta/partial_json").asText(""));
      }
    }
    assertThat(text.toString()).isEqualTo("Hello " + EMAIL + "!");
    assertThat(JSON.readTree(json.toString()).path("to").asText()).isEqualTo(EMAIL);
  }

  @Test
  void blockedTypesAreNamedButTheirValuesNever() throws Exception {
    gateway(null);
    String card = "4111 1111 1111 1111";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/chat/completions", chat("strict", "Charge " + card + " and mail " + EMAIL))
            .build(),
        request -> {
          throw new AssertionError("a blocked request must not reach the provider");
        });
    assertThat(r.clientResponse().status()).isEqualTo(403);
    JsonNode error = JSON.readTree(r.clientResponse().bodyUtf8()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("pii_blocked");
    assertThat(error.path("message").asText())
        .contains("credit_card")
        .doesNotContain("email")
        .doesNotContain(card)
        .doesNotContain("4111");
  }

  @Test
  void redactAndHashReplaceValuesForGoodAndHashesAreStable() throws Exception {
    gateway(null);
    AtomicReference<String> sent = new AtomicReference<>();
    String phone = "+44 20 7946 0958";
    String body = chat("fast", "From " + EMAIL + ", call " + phone + " or " + phone);
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body)
            .header("x-llmgw-tenant", "redactor")
            .build(),
        request -> {
          sent.set(request.bodyUtf8());
          return UpstreamResponse.ok(
              "application/json",
              completion(tree(request.bodyUtf8()).at("/messages/0/content").asText()));
        });
    String content = JSON.readTree(sent.get()).at("/messages/0/content").asText();
    assertThat(content)
        .startsWith("From [REDACTED_EMAIL], call <PHONE_HASH_")
        .doesNotContain(phone)
        .doesNotContain(EMAIL);
    String[] hashes = content.split("call | or ");
    assertThat(hashes[1]).isEqualTo(hashes[2]).matches("<PHONE_HASH_[0-9a-f]{12}>");
    assertThat(JSON.readTree(r.clientResponse().bodyUtf8())
            .at("/choices/0/message/content")
            .asText())
        .as("redacted and hashed values are not restorable")
        .isEqualTo(content);
  }

  @Test
  void aFailingDetectorBlocksTheRequestAndLogsNoValue() throws Exception {
    gateway(types -> text -> {
      throw new IllegalStateException("detector broke on " + text);
    });
    // The service logs to stdout (simplelogger.properties); capture both streams.
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    ExchangeResult blocked;
    ExchangeResult forwarded;
    AtomicReference<String> sent = new AtomicReference<>();
    try {
      blocked = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", chat("fast", "I am " + EMAIL))
              .build(),
          request -> {
            throw new AssertionError("must not be forwarded");
          });
      forwarded = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", chat("lenient", "I am " + EMAIL))
              .build(),
          request -> {
            sent.set(request.bodyUtf8());
            return UpstreamResponse.ok("application/json", "{}");
          });
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    assertThat(blocked.clientResponse().status()).isEqualTo(503);
    assertThat(
            JSON.readTree(blocked.clientResponse().bodyUtf8()).at("/error/code").asText())
        .isEqualTo("pii_detection_failed");
    assertThat(forwarded.clientResponse().status())
        .as("on_error: allow forwards unchanged")
        .isEqualTo(200);
    assertThat(sent.get()).contains(EMAIL);
    String logs = captured.toString(StandardCharsets.UTF_8);
    assertThat(logs).contains("PII detection failed").doesNotContain(EMAIL).doesNotContain("alice");
    assertThat(gw.registry
            .counter(PiiMetrics.DETECTION_FAILURES, "outcome", "blocked")
            .count())
        .isEqualTo(1);
    assertThat(gw.registry
            .counter(PiiMetrics.DETECTION_FAILURES, "outcome", "forwarded")
            .count())
        .isEqualTo(1);
  }

  @Test
  void responseScanningFlagsWhatTheModelEmitsWithoutChangingIt() throws Exception {
    gateway(null);
    String made = "carol@example.net";
    List<String> pieces = List.of("Try ca", "rol@exam", "ple.net today");
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", streamingChat("scanned")).build(),
        Upstream.returning(
            UpstreamResponse.ok("text/event-stream", sseChat(pieces).toArray(String[]::new))));
    assertThat(clientText(r)).isEqualTo("Try " + made + " today");
    Map<String, com.google.protobuf.Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("pii_response_types").getStringValue()).isEqualTo("email");
    assertThat(meta.get("pii_response_action").getStringValue()).isEqualTo("flag");
    assertThat(gw.registry
            .counter(PiiMetrics.RESPONSE_ENTITIES, "type", "email", "action", "flag")
            .count())
        .isEqualTo(1);
  }

  @Test
  void exchangesWithoutPersonalDataAreForwardedByteForByte() throws Exception {
    gateway(null);
    String body = chat("fast", "What is 2 + 2? Use <b>bold</b>.");
    String expectedUpstream = body.replace("\"fast\"", "\"gpt-4o-mini\"");
    List<String> wire = sseChat(List.of("It is <b>4", "</b>."));
    ExchangeResult r =
        gw.exchange(GatewayExchange.post("/v1/chat/completions", body).build(), request -> {
          assertThat(request.bodyUtf8()).isEqualTo(expectedUpstream);
          return UpstreamResponse.ok("text/event-stream", wire.toArray(String[]::new));
        });
    assertThat(r.clientResponse().bodyUtf8()).isEqualTo(String.join("", wire));
  }

  // ---- helpers

  private ExchangeResult streamChat(List<String> pieces) {
    return gw.exchange(
        GatewayExchange.post("/v1/chat/completions", streamingChat()).build(),
        Upstream.returning(
            UpstreamResponse.ok("text/event-stream", sseChat(pieces).toArray(String[]::new))));
  }

  private static String streamingChat() {
    return streamingChat("fast");
  }

  private static String streamingChat(String model) {
    return "{\"model\":\"" + model
        + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"I am " + EMAIL
        + ", my friend is " + EMAIL2 + "\"}]}";
  }

  private static String chat(String model, String content) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("model", model);
    body.putArray("messages").addObject().put("role", "user").put("content", content);
    return JSON.writeValueAsString(body);
  }

  private static JsonNode tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String completion(String content) {
    ObjectNode body =
        JSON.createObjectNode().put("id", "chatcmpl-1").put("object", "chat.completion");
    ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
    choice.putObject("message").put("role", "assistant").put("content", content);
    choice.put("finish_reason", "stop");
    return body.toString();
  }

  /** One SSE event per piece, then a finish chunk and [DONE], as OpenAI streams chat. */
  static List<String> sseChat(List<String> pieces) {
    List<String> events = new ArrayList<>();
    try {
      events.add(
          "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
      for (String p : pieces) {
        events.add(
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                + JSON.writeValueAsString(p) + "},\"finish_reason\":null}]}\n\n");
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    events.add(
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    events.add("data: [DONE]\n\n");
    return events;
  }

  private static String anthropic(String name, String data) {
    return "event: " + name + "\ndata: " + data + "\n\n";
  }

  private static String clientText(ExchangeResult r) throws Exception {
    return textOf(r.clientResponse().body().toByteArray());
  }

  /** The assistant text of an OpenAI chat stream, as an SDK would concatenate it. */
  private static String textOf(byte[] sse) {
    StringBuilder text = new StringBuilder();
    for (SseEvent e : events(sse)) {
      if (e.isDone()) {
        continue;
      }
      JsonNode d = tree(e.data());
      for (JsonNode choice : d.path("choices")) {
        text.append(choice.path("delta").path("content").asText(""));
      }
    }
    return text.toString();
  }

  private static List<SseEvent> events(byte[] sse) {
    return new SseParser(1 << 20).feed(ByteString.copyFrom(sse));
  }
}
