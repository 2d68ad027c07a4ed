package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.server.ServedBy;
import dev.llmgw.extproc.server.StreamContext;
import io.micrometer.core.instrument.DistributionSummary;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Token counting in the real ext-proc, driven as Envoy drives it. */
class TokenCountingThroughGatewayTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POLICY = """
      version: "tokens-1"
      max_request_body_bytes: 4194304
      include_stream_usage: true
      models:
        fast: { route: openai, model: gpt-4o-mini }
        gpt-4: { route: openai, model: gpt-4 }
        embed: { route: openai, model: text-embedding-3-small }
        reason: { route: openai, model: o4-mini }
        smart: { route: anthropic, model: claude-sonnet-4-5-20250929 }
        haiku: { route: anthropic, model: claude-3-5-haiku-20241022 }
      """;

  private final List<TokenReport> reports = new CopyOnWriteArrayList<>();
  private GatewayExchange gw;

  @BeforeEach
  void start() throws Exception {
    GatewayPolicy policy = PolicyLoader.parse(POLICY, "test");
    gw = new GatewayExchange(
        policy,
        registry -> List.of(TokenCounting.builder(registry)
            .onReport((StreamContext context, TokenReport report) -> reports.add(report))
            .build()));
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
  }

  @Test
  void promptCountIsWrittenAsMetadataAndProviderUsageFromTheLastSseEventWinsForBilling()
      throws Exception {
    String body =
        "{\"model\":\"fast\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Grüß dich! 👋\"}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body).build(),
        Upstream.returning(UpstreamResponse.builder(200)
            .header("content-type", "text/event-stream")
            .chunk(recorded("/recorded/openai-chat-stream.sse"))
            .attribute(ServedBy.ATTRIBUTE, "openai-eu")
            .build()));

    int expectedPrompt =
        3 + Tokenizer.O200K_BASE.count("user") + Tokenizer.O200K_BASE.count("Grüß dich! 👋") + 3;
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("prompt_tokens_counted").getNumberValue()).isEqualTo(expectedPrompt);
    assertThat(meta.get("token_count_method").getStringValue()).isEqualTo("o200k_base");
    assertThat(meta.get("token_count_exact").getBoolValue()).isTrue();
    // The recorded stream reports prompt_tokens 12, completion_tokens 6 in its last chunk.
    assertThat(meta.get("prompt_tokens").getNumberValue()).isEqualTo(12);
    assertThat(meta.get("prompt_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(6);
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("total_tokens").getNumberValue()).isEqualTo(18);
    assertThat(meta.get("cached_tokens").getNumberValue()).isZero();

    assertThat(reports).singleElement().satisfies(report -> {
      assertThat(report.promptTokensCounted()).isEqualTo(expectedPrompt);
      assertThat(report.promptTokens()).isEqualTo(12);
      assertThat(report.completionTokensCounted())
          .isEqualTo(Tokenizer.O200K_BASE.count("Grüße 👋 aus Köln"));
      assertThat(report.complete()).isTrue();
    });
    DistributionSummary error = gw.registry
        .find(TokenMetrics.COUNT_ERROR)
        .tags(
            TokenMetrics.TAG_PART,
            "prompt",
            TokenMetrics.TAG_MODEL,
            "gpt-4o-mini",
            TokenMetrics.TAG_EXACT,
            "true")
        .summary();
    assertThat(error).isNotNull();
    assertThat(error.totalAmount()).isEqualTo(Math.abs(expectedPrompt - 12));
    assertThat(gw.registry
            .get(TokenMetrics.TOKEN_USAGE)
            .tags(
                TokenMetrics.TAG_TOKEN_TYPE,
                "output",
                TokenMetrics.TAG_SOURCE,
                "provider",
                TokenMetrics.TAG_PROVIDER,
                "openai-eu")
            .summary()
            .totalAmount())
        .as("tagged with the provider that served it, not the API shape")
        .isEqualTo(6);
  }

  @Test
  void streamWithoutUsageIsBilledOnTheCompletionCountedFromItsText() throws Exception {
    // The client opted out of usage; the stream carries text and a tool call but no usage.
    String body =
        "{\"model\":\"fast\",\"stream\":true,\"stream_options\":{\"include_usage\":false},"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Zürich?\"}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body).build(),
        Upstream.returning(UpstreamResponse.builder(200)
            .header("content-type", "text/event-stream")
            .chunk(recorded("/tokens/openai-chat-stream-no-usage.sse"))
            .build()));

    Tokenizer o200k = Tokenizer.O200K_BASE;
    int completion = o200k.count("Let me check the weather in Zürich 🌦️.")
        + o200k.count("get_weather")
        + o200k.count("{\"location\": \"Zürich, CH\"}");
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(completion);
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("counted");
    assertThat(meta.get("prompt_tokens_source").getStringValue()).isEqualTo("counted");
    assertThat(meta.get("prompt_tokens").getNumberValue())
        .isEqualTo(meta.get("prompt_tokens_counted").getNumberValue());
    assertThat(gw.registry
            .get(TokenMetrics.USAGE_MISSING)
            .tag(TokenMetrics.TAG_MODEL, "gpt-4o-mini")
            .counter()
            .count())
        .isEqualTo(1);
  }

  @Test
  void claudeCountsAreLabelledEstimatesAndNeverUsedForBillingWhenAnthropicReportsUsage()
      throws Exception {
    String body =
        "{\"model\":\"smart\",\"max_tokens\":1024,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hallo!\"}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/messages", body).build(),
        Upstream.returning(UpstreamResponse.builder(200)
            .header("content-type", "text/event-stream")
            .chunk(recorded("/recorded/anthropic-messages-stream.sse"))
            .build()));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("token_count_method").getStringValue()).isEqualTo("estimate");
    assertThat(meta.get("token_count_exact").getBoolValue()).isFalse();
    assertThat(meta.get("prompt_tokens_counted").getNumberValue())
        .isEqualTo(Tokenizer.estimate("Hallo!".length()));
    // message_start: input 15 (+0 cache); message_delta: output 4 (cumulative).
    assertThat(meta.get("prompt_tokens").getNumberValue()).isEqualTo(15);
    assertThat(meta.get("prompt_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(4);
    assertThat(gw.registry
            .get(TokenMetrics.PROMPT_COUNTED)
            .tags(
                TokenMetrics.TAG_METHOD,
                "estimate",
                TokenMetrics.TAG_EXACT,
                "false",
                TokenMetrics.TAG_MODEL,
                "claude-sonnet-4-5")
            .summary()
            .count())
        .isEqualTo(1);
    assertThat(gw.registry
            .get(TokenMetrics.COUNT_ERROR)
            .tags(TokenMetrics.TAG_METHOD, "estimate", TokenMetrics.TAG_PART, "prompt")
            .summary()
            .count())
        .isEqualTo(1);
  }

  @Test
  void promptThatCannotFitIsRefusedWith400InOpenAisShapeNamingTheNumbers() throws Exception {
    // gpt-4: 8192-token window. A 7000-token prompt plus max_tokens 2000 cannot fit.
    String text = "hello ".repeat(7000);
    String body =
        "{\"model\":\"gpt-4\",\"max_tokens\":2000,\"messages\":[{\"role\":\"user\",\"content\":\""
            + text + "\"}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body).build(),
        Upstream.returning(UpstreamResponse.ok("application/json", "{}")));

    int prompt = 3 + Tokenizer.CL100K_BASE.count("user") + Tokenizer.CL100K_BASE.count(text) + 3;
    assertThat(r.upstreamRequest()).as("never forwarded").isEmpty();
    assertThat(r.clientResponse().status()).isEqualTo(400);
    JsonNode error = JSON.readTree(r.clientResponse().bodyUtf8()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
    assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.get("param").asText()).isEqualTo("messages");
    assertThat(error.get("message").asText())
        .contains(
            "8192", Integer.toString(prompt), "2000 max_tokens", Integer.toString(prompt + 2000))
        .doesNotContain("hello");
    assertThat(gw.registry
            .get(ExtProcMetrics.ERRORS)
            .tag(ExtProcMetrics.TAG_KIND, "context_length_exceeded")
            .counter()
            .count())
        .isEqualTo(1);
    assertThat(reports).as("refused requests produce no usage report").isEmpty();
  }

  @Test
  void anthropicMaxTokensAboveTheModelsOutputLimitIsRefusedInAnthropicsShape() throws Exception {
    String body =
        "{\"model\":\"haiku\",\"max_tokens\":20000,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/messages", body).build(),
        Upstream.returning(UpstreamResponse.ok("application/json", "{}")));

    assertThat(r.upstreamRequest()).isEmpty();
    assertThat(r.clientResponse().status()).isEqualTo(400);
    JsonNode json = JSON.readTree(r.clientResponse().bodyUtf8());
    assertThat(json.get("type").asText()).isEqualTo("error");
    assertThat(json.at("/error/type").asText()).isEqualTo("invalid_request_error");
    assertThat(json.at("/error/message").asText())
        .contains("max_tokens is 20000", "claude-3-5-haiku", "8192");
  }

  @Test
  void requestThatFitsIsForwardedUnchanged() throws Exception {
    // The recorded answer describes an image: its prompt tokens are mostly the image's, which the
    // gateway's count leaves out (a lower bound).
    String body =
        "{\"model\":\"reason\",\"max_completion_tokens\":100000,\"messages\":[{\"role\":\"user\","
            + "\"content\":[{\"type\":\"text\",\"text\":\"What is in this image?\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/boardwalk.jpg\"}}]}]}";
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", body).build(),
        Upstream.returning(UpstreamResponse.ok(
            "application/json", recordedString("/tokens/openai-chat-usage.json"))));

    assertThat(r.clientResponse().status()).isEqualTo(200);
    assertThat(r.upstream().bodyUtf8()).isEqualTo(body.replace("\"reason\"", "\"o4-mini\""));
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("reasoning_tokens").getNumberValue()).isEqualTo(320);
    assertThat(meta.get("cached_tokens").getNumberValue()).isEqualTo(1024);
    assertThat(gw.registry
            .get(TokenMetrics.TOKEN_DETAIL)
            .tags(TokenMetrics.TAG_TYPE, "reasoning")
            .counter()
            .count())
        .isEqualTo(320);
  }

  @Test
  void embeddingsUsageIsReadFromJsonAndAnOversizedInputIsRefused() throws Exception {
    ExchangeResult ok = gw.exchange(
        GatewayExchange.post(
                "/v1/embeddings",
                "{\"model\":\"embed\",\"input\":[\"tiktoken is great!\",\"hello world\"]}")
            .build(),
        Upstream.returning(UpstreamResponse.ok(
            "application/json", recordedString("/tokens/openai-embeddings.json"))));
    Map<String, Value> meta = GatewayExchange.metadata(ok);
    assertThat(meta.get("prompt_tokens_counted").getNumberValue()).isEqualTo(8);
    assertThat(meta.get("prompt_tokens").getNumberValue()).isEqualTo(8);
    assertThat(meta.get("completion_tokens").getNumberValue()).isZero();

    ExchangeResult tooLong = gw.exchange(
        GatewayExchange.post(
                "/v1/embeddings",
                "{\"model\":\"embed\",\"input\":[\"short\",\"" + "lorem ipsum ".repeat(5000)
                    + "\"]}")
            .build(),
        Upstream.returning(UpstreamResponse.ok("application/json", "{}")));
    assertThat(tooLong.clientResponse().status()).isEqualTo(400);
    assertThat(JSON.readTree(tooLong.clientResponse().bodyUtf8())
            .at("/error/param")
            .asText())
        .isEqualTo("input");
  }

  @Test
  void upstreamErrorsRecordNoUsage() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\",\"messages\":[]}")
            .build(),
        Upstream.returning(UpstreamResponse.builder(429)
            .header("content-type", "application/json")
            .chunk("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}")
            .build()));

    assertThat(r.clientResponse().status()).isEqualTo(429);
    assertThat(GatewayExchange.metadata(r))
        .containsKey("prompt_tokens_counted")
        .doesNotContainKey("prompt_tokens");
    assertThat(reports).singleElement().satisfies(report -> {
      assertThat(report.responseStatus()).isEqualTo(429);
      assertThat(report.reported()).isNull();
    });
    assertThat(gw.registry.find(TokenMetrics.TOKEN_USAGE).summaries()).isEmpty();
  }

  private static ByteString recorded(String resource) throws Exception {
    try (InputStream in = TokenCountingThroughGatewayTest.class.getResourceAsStream(resource)) {
      return ByteString.readFrom(in);
    }
  }

  private static String recordedString(String resource) throws Exception {
    return recorded(resource).toStringUtf8();
  }
}
