package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Value;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.limits.LimitEnforcement;
import dev.llmgw.extproc.limits.LocalLimitStore;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Replays of upstreams that report usage no exchange could have (issue 18, finding 4), through the
 * real ext-proc with token counting, cost tagging and a tenant budget: the gateway bills its own
 * count, says so, and the tenant can go on.
 */
class UsageBoundsThroughGatewayTest {

  private static final String POLICY = """
      models:
        mini: { route: openai, model: gpt-4o-mini }
        haiku: { route: anthropic, model: claude-haiku-4-5 }
      limits:
        budgets:
          - { scope: tenant, id: acme, period: monthly, limit_usd: "1.00" }
      """;
  private static final String TEN_TO_THE_30 = "1000000000000000000000000000000";
  private static final String CHAT_REQUEST =
      "{\"model\":\"mini\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private GatewayExchange gw;

  @BeforeEach
  void start() throws Exception {
    Clock clock = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
    gw = new GatewayExchange(
        PolicyLoader.parse(POLICY, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry).build(),
            new LimitEnforcement(LocalLimitStore.create(), clock, registry)));
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
  }

  private ExchangeResult chat(String answer) {
    return gw.exchange(
        GatewayExchange.post("/v1/chat/completions", CHAT_REQUEST)
            .header("x-llmgw-tenant", "acme")
            .build(),
        Upstream.returning(UpstreamResponse.ok("application/json", answer)));
  }

  private static String answer(String usage) {
    return "{\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        + "\"content\":\"Hello there\"}}],\"usage\":" + usage + "}";
  }

  private double implausible(String reason) {
    var counter = gw.registry
        .find(TokenMetrics.USAGE_IMPLAUSIBLE)
        .tags(TokenMetrics.TAG_REASON, reason, TokenMetrics.TAG_MODEL, "gpt-4o-mini")
        .counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void anAnswerClaimingTenToThe30TokensIsBilledOnTheGatewaysCountAndLocksNoOneOut() {
    ExchangeResult r = chat(answer("{\"prompt_tokens\":" + TEN_TO_THE_30 + ",\"completion_tokens\":"
        + TEN_TO_THE_30 + ",\"total_tokens\":" + TEN_TO_THE_30 + "}"));

    assertThat(r.clientResponse().status()).isEqualTo(200);
    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("provider_usage_rejected").getStringValue()).isEqualTo("above_ceiling");
    assertThat(meta.get("prompt_tokens_source").getStringValue()).isEqualTo("counted");
    assertThat(meta.get("prompt_tokens").getNumberValue())
        .isEqualTo(meta.get("prompt_tokens_counted").getNumberValue());
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("counted");
    assertThat(meta.get("completion_tokens").getNumberValue())
        .isEqualTo(Tokenizer.O200K_BASE.count("Hello there"));
    assertThat(meta.get("cost_estimated").getBoolValue()).isTrue();
    assertThat(new BigDecimal(meta.get("cost_usd").getStringValue()))
        .as("a few tokens of gpt-4o-mini, not $1,610")
        .isLessThan(new BigDecimal("0.0001"));
    assertThat(implausible("above_ceiling")).isEqualTo(1);

    assertThat(chat(answer("{\"prompt_tokens\":8,\"completion_tokens\":3,\"total_tokens\":11}"))
            .clientResponse()
            .status())
        .as("the tenant's budget was not spent by the claim")
        .isEqualTo(200);
  }

  @Test
  void anthropicCountsNearTheIntLimitAreRefusedInsteadOfAddingUpToANegativeTotal()
      throws Exception {
    String stream = """
        event: message_start
        data: {"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":2147483647,"cache_read_input_tokens":2147483647,"cache_creation_input_tokens":2147483647,"output_tokens":1}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hallo!"}}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2147483647}}

        """;
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/messages",
                "{\"model\":\"haiku\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}")
            .header("x-llmgw-tenant", "acme")
            .build(),
        Upstream.returning(UpstreamResponse.ok("text/event-stream", stream)));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("provider_usage_rejected").getStringValue()).isEqualTo("above_ceiling");
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("estimated");
    assertThat(meta.get("total_tokens").getNumberValue())
        .isEqualTo(meta.get("prompt_tokens_counted").getNumberValue()
            + Tokenizer.estimate("Hallo!".length()));
    assertThat(new BigDecimal(meta.get("cost_usd").getStringValue()))
        .isLessThan(new BigDecimal("0.0001"));
  }

  @Test
  void cachedTokensAboveThePromptAreNotBelieved() {
    ExchangeResult r =
        chat(answer("{\"prompt_tokens\":20,\"completion_tokens\":5,\"total_tokens\":25,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":5000}}"));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("provider_usage_rejected").getStringValue())
        .isEqualTo("cache_above_prompt");
    assertThat(meta).doesNotContainKey("cached_tokens");
    assertThat(implausible("cache_above_prompt")).isEqualTo(1);
  }

  @Test
  void aCompletionLongerThanTheRequestAllowedIsNotBelieved() {
    ExchangeResult r =
        chat(answer("{\"prompt_tokens\":8,\"completion_tokens\":50000,\"total_tokens\":50008}"));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("provider_usage_rejected").getStringValue())
        .isEqualTo("completion_above_output_limit");
    assertThat(meta.get("completion_tokens").getNumberValue())
        .isEqualTo(Tokenizer.O200K_BASE.count("Hello there"));
  }

  @Test
  void believableUsageIsBilledAsReportedWithoutAFlag() {
    ExchangeResult r =
        chat(answer("{\"prompt_tokens\":8,\"completion_tokens\":100,\"total_tokens\":108}"));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta).doesNotContainKey("provider_usage_rejected");
    assertThat(meta.get("completion_tokens_source").getStringValue()).isEqualTo("provider");
    assertThat(meta.get("completion_tokens").getNumberValue()).isEqualTo(100);
    assertThat(gw.registry.find(TokenMetrics.USAGE_IMPLAUSIBLE).counters()).isEmpty();
  }
}
