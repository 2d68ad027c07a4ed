package dev.llmgw.extproc.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.pii.PiiProtection;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Answers too large to inspect whole (issue 18, finding 5): a JSON body over {@link
 * ProcessingStream#MAX_RESPONSE_INSPECT_BYTES} and an SSE event over {@link
 * ProcessingStream#MAX_SSE_EVENT_BYTES} are still billed (the provider's usage when it comes after
 * them, else an estimate labelled as such), and restoring goes on after an oversized event.
 */
class LargeResponsesThroughGatewayTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POLICY = """
      include_stream_usage: false
      models:
        mini: { route: openai, model: gpt-4o-mini }
        mystery: { route: openai, model: mystery-1 }
      pii:
        default:
          entities: { email: mask }
      """;
  private static final String EMAIL = "alice.smith@example.com";
  private static final Tokenizer O200K = Tokenizer.O200K_BASE;

  private GatewayExchange gw;

  /** ext-proc with token counting, and PII restoring in front of it when {@code pii}. */
  private GatewayExchange gateway(boolean pii) throws Exception {
    gw = new GatewayExchange(
        PolicyLoader.parse(POLICY, "test"),
        registry -> pii
            ? List.of(
                PiiProtection.listener(
                    registry, "0123456789abcdef".getBytes(StandardCharsets.UTF_8)),
                TokenCounting.listener(registry))
            : List.of(TokenCounting.listener(registry)));
    return gw;
  }

  @AfterEach
  void close() throws Exception {
    if (gw != null) {
      gw.close();
    }
  }

  private double errors(String kind) {
    var counter = gw.registry
        .find(ExtProcMetrics.ERRORS)
        .tag(ExtProcMetrics.TAG_KIND, kind)
        .counter();
    return counter == null ? 0 : counter.count();
  }

  /**
   * A chat answer of more than 9 MiB: a short text with per-token log probabilities, which make
   * answers this large. {@code usage} (or nothing) after them, as OpenAI writes it.
   */
  private static UpstreamResponse bigJsonAnswer(@Nullable String usage) {
    String logprob = "{\"token\":\"x\",\"logprob\":-0.01,\"bytes\":[120],\"top_logprobs\":[]},";
    StringBuilder b = new StringBuilder(10 << 20)
        .append("{\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,")
        .append("\"message\":{\"role\":\"assistant\",\"content\":\"Hello there\"},")
        .append("\"logprobs\":{\"content\":[");
    while (b.length() < 9 << 20) {
      b.append(logprob);
    }
    b.setLength(b.length() - 1);
    b.append("]},\"finish_reason\":\"stop\"}]");
    if (usage != null) {
      b.append(",\"usage\":").append(usage);
    }
    b.append(",\"system_fingerprint\":\"fp\"}");
    UpstreamResponse.Builder response =
        UpstreamResponse.builder(200).header("content-type", "application/json");
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
    for (int from = 0; from < bytes.length; from += 1 << 20) {
      response.chunk(ByteString.copyFrom(bytes, from, Math.min(1 << 20, bytes.length - from)));
    }
    return response.build();
  }

  /** A chat request with {@code max_tokens} 1000. */
  private ExchangeResult chat(String model, String content, boolean stream, UpstreamResponse r) {
    return chat(model, content, stream, ",\"max_tokens\":1000", r);
  }

  private ExchangeResult chat(
      String model, String content, boolean stream, String options, UpstreamResponse r) {
    String body = "{\"model\":\"" + model + "\"" + options + ",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
    return gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body).build(), Upstream.returning(r));
  }

  @Test
  void aJsonAnswerOverTheInspectionLimitIsBilledFromTheUsageAtItsEnd() throws Exception {
    gateway(false);

    ExchangeResult r = chat(
        "mini",
        "hi",
        false,
        bigJsonAnswer("{\"prompt_tokens\":8,\"completion_tokens\":900,\"total_tokens\":908}"));

    assertThat(r.clientResponse().body().size()).isGreaterThan(9 << 20);
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(900);
    assertThat(errors("response_too_large_to_inspect")).isEqualTo(1);
  }

  @Test
  void withoutUsageAJsonAnswerOverTheLimitIsChargedAnEstimateFromItsBytesUpToWhatWasAllowed()
      throws Exception {
    gateway(false);

    ExchangeResult r = chat("mini", "hi", false, bigJsonAnswer(null));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens_source").getStringValue())
        .isEqualTo("estimated_from_bytes");
    assertThat(meta.get("completion_tokens").getNumberValue())
        .as("9 MiB / 3.5 is far more than max_tokens 1000 allows")
        .isEqualTo(1000);
  }

  /** An OpenAI chat chunk whose content delta is {@code text}. */
  private static String chunk(String text) throws Exception {
    return "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        + JSON.writeValueAsString(text) + "}}]}\n\n";
  }

  /** An event whose fields are over the 1 MiB limit: one content delta of 1.5 MiB. */
  private static String oversized() throws Exception {
    return chunk("y".repeat(3 << 19));
  }

  private static UpstreamResponse stream(String... events) {
    UpstreamResponse.Builder response =
        UpstreamResponse.builder(200).header("content-type", "text/event-stream");
    for (String e : events) {
      response.chunk(e);
    }
    return response.build();
  }

  @Test
  void anOversizedSseEventIsSkippedAndTheUsageAfterItIsStillRead() throws Exception {
    gateway(false);

    ExchangeResult r = chat(
        "mini",
        "hi",
        true,
        stream(
            chunk("Hello"),
            oversized(),
            chunk(" world"),
            "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,"
                + "\"completion_tokens\":900,\"total_tokens\":908}}\n\n",
            "data: [DONE]\n\n"));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(900);
    assertThat(errors("sse_event_too_large")).isEqualTo(1);
  }

  @Test
  void withoutUsageTheSkippedEventsBytesAreChargedAsAnEstimateOnTopOfTheCountedText()
      throws Exception {
    gateway(false);
    String big = oversized();

    // mystery-1 is not in the model catalog and the request sets no max_tokens: nothing but the
    // ceiling caps the estimate.
    ExchangeResult r = chat(
        "mystery",
        "hi",
        true,
        "",
        stream(chunk("Hello"), big, chunk(" world"), "data: [DONE]\n\n"));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens_source").getStringValue())
        .isEqualTo("estimated_from_bytes");
    int skippedBytes = big.length() - 2; // the event's field bytes, without its line breaks
    assertThat(meta.get("completion_tokens").getNumberValue())
        .isEqualTo(O200K.count("Hello world") + Tokenizer.estimate(skippedBytes));
  }

  @Test
  void restoringGoesOnAfterAnOversizedEventWhichGoesThroughUnchanged() throws Exception {
    gateway(true);
    String big = oversized();

    ExchangeResult r = chat(
        "mini",
        "I am " + EMAIL,
        true,
        stream(
            chunk("Hello <EMAIL_1>,"),
            big,
            chunk(" bye <EMAIL_1>!"),
            "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                + "\"completion_tokens\":900,\"total_tokens\":912}}\n\n",
            "data: [DONE]\n\n"));

    String client = r.clientResponse().bodyUtf8();
    assertThat(client).contains(big);
    StringBuilder text = new StringBuilder();
    for (SseEvent e : new SseParser(4 << 20).feed(r.clientResponse().body())) {
      if (!e.isDone()) {
        for (JsonNode choice : JSON.readTree(e.data()).path("choices")) {
          text.append(choice.path("delta").path("content").asText(""));
        }
      }
    }
    assertThat(text.toString())
        .isEqualTo("Hello " + EMAIL + "," + "y".repeat(3 << 19) + " bye " + EMAIL + "!");
    assertThat(GatewayExchange.metadata(r).get("completion_tokens").getNumberValue())
        .isEqualTo(900);
  }

  @Test
  void whileRestoringAJsonAnswerOverTheLimitGoesThroughUnchangedAndItsUsageIsRead()
      throws Exception {
    gateway(true);

    ExchangeResult r = chat(
        "mini",
        "I am " + EMAIL,
        false,
        bigJsonAnswer("{\"prompt_tokens\":12,\"completion_tokens\":900,\"total_tokens\":912}"));

    assertThat(r.clientResponse().body().size()).isGreaterThan(9 << 20);
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(900);
  }
}
