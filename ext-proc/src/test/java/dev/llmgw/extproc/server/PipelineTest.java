package dev.llmgw.extproc.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.limits.LimitEnforcement;
import dev.llmgw.extproc.limits.LocalLimitStore;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.tokens.TokenCounting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The pipeline's contract: facts checked at startup, and stages that answer requests themselves. */
class PipelineTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void aPipelineWithoutTokenCountingRefusesToStartNamingWhatIsMissing() {
    assertThatThrownBy(() -> Pipeline.of(List.of(
            CostTagging.builder(registry).build(),
            new LimitEnforcement(LocalLimitStore.create(), Clock.systemUTC(), registry))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stage 'CostTagging' needs the fact 'tokens'")
        .hasMessageContaining("which no stage of the pipeline produces");
  }

  @Test
  void aProducerAfterItsConsumerIsAnError() {
    assertThatThrownBy(() -> Pipeline.of(List.of(
            TokenCounting.listener(registry),
            new LimitEnforcement(LocalLimitStore.create(), Clock.systemUTC(), registry),
            CostTagging.builder(registry).build())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stage 'LimitEnforcement' needs the fact 'cost'")
        .hasMessageContaining("which 'CostTagging' produces only after it")
        .hasMessageContaining("stages in order: TokenCounting, LimitEnforcement, CostTagging");
  }

  @Test
  void theServerDoesNotStartOnAWronglyOrderedPipeline() {
    assertThatThrownBy(() -> new ExternalProcessorService(
            new dev.llmgw.extproc.policy.PolicyStore(GatewayPolicy.passThrough()),
            List.of(CostTagging.builder(registry).build()),
            new ExtProcMetrics(registry)))
        .hasMessageContaining("needs the fact 'tokens'");
  }

  @Test
  void theProductionPipelineIsWellFormed() {
    Pipeline pipeline = Pipeline.of(List.of(
        TokenCounting.listener(registry),
        CostTagging.builder(registry).build(),
        new LimitEnforcement(LocalLimitStore.create(), Clock.systemUTC(), registry)));
    assertThat(pipeline.stages()).hasSize(3);
  }

  @Test
  void aStageAnswersAJsonRequestItselfAndNothingIsForwarded() throws Exception {
    AtomicInteger laterStageOpened = new AtomicInteger();
    try (GatewayExchange gw = new GatewayExchange(
        policy(), answering(), counting(laterStageOpened), TokenCounting.listener(registry))) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .build(),
          request -> UpstreamResponse.ok("application/json", "{\"unexpected\":true}"));

      assertThat(r.upstreamRequest()).isEmpty();
      assertThat(r.clientResponse().status()).isEqualTo(200);
      assertThat(r.clientResponse().headers().get("content-type")).contains("application/json");
      assertThat(r.clientResponse().headers().get("x-llmgw-cache")).contains("hit");
      assertThat(r.clientResponse().bodyUtf8()).isEqualTo(JSON_ANSWER);
      assertThat(laterStageOpened).hasValue(0);
      assertThat(GatewayExchange.metadata(r).get("requested_model").getStringValue())
          .isEqualTo("fast");
      assertThat(gw.registry
              .get(ExtProcMetrics.ANSWERED)
              .tag(ExtProcMetrics.TAG_STAGE, "answering")
              .counter()
              .count())
          .isEqualTo(1);
    }
  }

  @Test
  void aStageAnswersAStreamedRequestWithACompleteEventStream() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy(), answering())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"fast\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .build(),
          request -> UpstreamResponse.ok("application/json", "{\"unexpected\":true}"));

      assertThat(r.upstreamRequest()).isEmpty();
      assertThat(r.clientResponse().status()).isEqualTo(200);
      assertThat(r.clientResponse().headers().get("content-type")).contains("text/event-stream");
      assertThat(r.clientResponse().bodyUtf8()).isEqualTo(SSE_ANSWER);
    }
  }

  static final String JSON_ANSWER =
      "{\"id\":\"chatcmpl-cached\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
          + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"cached\"},"
          + "\"finish_reason\":\"stop\"}]}";
  static final String SSE_ANSWER =
      "data: {\"id\":\"chatcmpl-cached\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
          + "\"delta\":{\"content\":\"cached\"},\"finish_reason\":\"stop\"}]}\n\n"
          + "data: [DONE]\n\n";

  /** A stage that answers every request itself, as a cache would on a hit. */
  private static ExchangeListener answering() {
    return new ExchangeListener() {
      @Override
      public String name() {
        return "answering";
      }

      @Override
      public Observer open(StreamContext context) {
        return new Observer() {
          @Override
          public @Nullable Answer onRequest(LlmRequest request) {
            Map<String, String> headers = Map.of("x-llmgw-cache", "hit");
            return request.streaming()
                ? Answer.eventStream(SSE_ANSWER.getBytes(StandardCharsets.UTF_8), headers)
                : Answer.json(JSON_ANSWER.getBytes(StandardCharsets.UTF_8), headers);
          }
        };
      }
    };
  }

  private static ExchangeListener counting(AtomicInteger opened) {
    return context -> {
      opened.incrementAndGet();
      return new ExchangeListener.Observer() {};
    };
  }

  private static GatewayPolicy policy() throws Exception {
    return PolicyLoader.parse("""
        models:
          fast: { route: openai, model: gpt-4o-mini }
        """, "test");
  }
}
