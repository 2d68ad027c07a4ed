package dev.llmgw.extproc.cost;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Value;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.server.ServedBy;
import dev.llmgw.extproc.server.StreamContext;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.TokenReport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Cost tags, metrics and spend records of whole exchanges through the real ext-proc. */
class CostThroughGatewayTest {

  record Spent(StreamContext context, TokenReport report, Cost cost, String servedModel) {}

  /**
   * A long system message, so that the recorded answer's usage (/cost/openai-gpt-4o-cached.json:
   * 1,200 prompt tokens, 1,024 of them cached) is believable for the request.
   */
  private static final String CONTRACT = "{\"role\":\"system\",\"content\":\""
      + "Clause 12: the contract renews each year on 1 March. ".repeat(100)
      + "\"}";

  private final List<Spent> spent = new CopyOnWriteArrayList<>();
  private GatewayExchange gw;

  @BeforeEach
  void start() throws Exception {
    gw = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          gpt-4o: { route: openai, model: gpt-4o }
          haiku: { route: anthropic, model: claude-haiku-4-5 }
          mystery: { route: openai, model: mystery-1 }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry)
                .sink((c, r, cost, served) -> spent.add(new Spent(c, r, cost, served)))
                .build()));
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
  }

  @Test
  void aJsonAnswerIsPricedFromTheProvidersUsageIncludingCachedTokens() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"messages\":[" + CONTRACT
                    + ",{\"role\":\"user\",\"content\":\"When does it renew?\"}]}")
            .header("x-llmgw-tenant", "acme")
            .header("x-llmgw-api-key", "sk-test-123")
            .build(),
        Upstream.returning(UpstreamResponse.builder(200)
            .header("content-type", "application/json")
            .chunk(resource("/cost/openai-gpt-4o-cached.json"))
            .attribute(ServedBy.ATTRIBUTE, "openai-eu")
            .build()));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    // gpt-4o: (1,200 − 1,024) × 2.50/1e6 + 1,024 × 1.25/1e6 + 300 × 10/1e6 = 0.00044 + 0.00128 +
    // 0.003
    assertThat(meta.get("cost_usd").getStringValue()).isEqualTo("0.00472");
    assertThat(meta.get("cost_estimated").getBoolValue()).isFalse();
    assertThat(meta.get("price_version").getStringValue())
        .isEqualTo(PriceCatalog.builtIn().version());
    assertThat(meta.get("served_model").getStringValue()).isEqualTo("gpt-4o-2024-08-06");
    assertThat(meta.get("tenant").getStringValue()).isEqualTo("acme");
    assertThat(meta.get("route").getStringValue()).isEqualTo("openai");
    assertThat(meta.get("provider").getStringValue()).isEqualTo("openai-eu");
    assertThat(meta.get("requested_model").getStringValue()).isEqualTo("gpt-4o");
    assertThat(meta.get("api_key_id").getStringValue()).doesNotContain("sk-test-123");

    assertThat(spent).singleElement().satisfies(s -> {
      assertThat(s.cost().usd()).isEqualByComparingTo("0.00472");
      assertThat(s.servedModel()).isEqualTo("gpt-4o-2024-08-06");
      assertThat(s.context().identity().tenant()).isEqualTo("acme");
    });
    assertThat(gw.registry
            .counter(
                CostMetrics.COST_USD,
                "tenant",
                "acme",
                "model",
                "gpt-4o",
                "route",
                "openai",
                "provider",
                "openai-eu",
                "estimated",
                "false")
            .count())
        .isEqualTo(0.00472, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void aStreamedAnthropicAnswerIsPricedWithCacheWrites() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/messages",
                "{\"model\":\"haiku\",\"max_tokens\":200,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Summarise\"}]}")
            .build(),
        Upstream.returning(UpstreamResponse.ok(
            "text/event-stream", resource("/cost/anthropic-stream-cache-write.sse"))));

    // claude-haiku-4-5: 12 × 1/1e6 + 2,100 × 1.25/1e6 + 57 × 5/1e6 = 0.002922
    assertThat(GatewayExchange.metadata(r).get("cost_usd").getStringValue()).isEqualTo("0.002922");
    assertThat(spent)
        .singleElement()
        .satisfies(s -> assertThat(s.cost().estimated()).isFalse());
  }

  @Test
  void withoutUsageTheCostIsAnEstimateAndSaysSo() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .build(),
        Upstream.returning(
            UpstreamResponse.ok(
                "application/json",
                "{\"id\":\"x\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello there\"}}]}")));

    Map<String, Value> meta = GatewayExchange.metadata(r);
    assertThat(meta.get("cost_estimated").getBoolValue()).isTrue();
    assertThat(spent)
        .singleElement()
        .satisfies(s -> assertThat(s.cost().estimated()).isTrue());
  }

  @Test
  void unknownModelsAndRefusedRequestsAreNotPriced() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post(
                "/v1/chat/completions",
                "{\"model\":\"mystery\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .build(),
        Upstream.returning(UpstreamResponse.ok(
            "application/json", "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}")));
    assertThat(GatewayExchange.metadata(r).get("cost_unpriced").getStringValue())
        .isEqualTo("unknown_model");

    ExchangeResult refused = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", "{\"model\":\"nope\",\"messages\":[]}")
            .build(),
        Upstream.returning(UpstreamResponse.ok("application/json", "{}")));
    assertThat(refused.clientResponse().status()).isEqualTo(404);
    assertThat(spent).isEmpty();
  }

  @Test
  void operatorPricesFromThePolicyReplaceTheBuiltInOnes() throws Exception {
    try (GatewayExchange negotiated = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          gpt-4o: { route: openai, model: gpt-4o }
        prices:
          version: acme-7
          models:
            gpt-4o: { input: "2.00", cached_input: "0.50", output: "5.00", source: "contract 7", as_of: 2026-11-01 }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry), CostTagging.builder(registry).build()))) {
      ExchangeResult r = negotiated.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"gpt-4o\",\"messages\":[" + CONTRACT
                      + ",{\"role\":\"user\",\"content\":\"When?\"}]}")
              .build(),
          Upstream.returning(UpstreamResponse.ok(
              "application/json", resource("/cost/openai-gpt-4o-cached.json"))));
      Map<String, Value> meta = GatewayExchange.metadata(r);
      // 176 × 2.00/1e6 + 1,024 × 0.50/1e6 + 300 × 5.00/1e6 = 0.000352 + 0.000512 + 0.0015
      assertThat(meta.get("cost_usd").getStringValue()).isEqualTo("0.002364");
      assertThat(meta.get("price_version").getStringValue())
          .isEqualTo(PriceCatalog.builtIn().version() + "+acme-7");
    }
  }

  @Test
  void aRegisteredKeysIdentityWinsOverTheIdentityHeaders() throws Exception {
    // key_e0dbaa0c6455 is the fingerprint of sk-test-123 (the control plane's ConfigApiTest checks
    // the same value).
    assertThat(dev.llmgw.extproc.server.Identity.fingerprint("sk-test-123"))
        .isEqualTo("key_e0dbaa0c6455");
    try (GatewayExchange keyed = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          gpt-4o: { route: openai, model: gpt-4o }
        keys:
          key_e0dbaa0c6455: { tenant: acme, application: chat }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry), CostTagging.builder(registry).build()))) {
      ExchangeResult r = keyed.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .header("x-llmgw-api-key", "sk-test-123")
              .header("x-llmgw-tenant", "someone-else")
              .header("x-llmgw-user", "u1")
              .build(),
          Upstream.returning(UpstreamResponse.ok("application/json", "{}")));
      Map<String, Value> meta = GatewayExchange.metadata(r);
      assertThat(meta.get("tenant").getStringValue()).isEqualTo("acme");
      assertThat(meta.get("application").getStringValue()).isEqualTo("chat");
      assertThat(meta.get("user").getStringValue()).as("left to the header").isEqualTo("u1");
      assertThat(r.upstream().headers().get("x-llmgw-tenant"))
          .as("routes match on the resolved tenant")
          .contains("acme");
    }
    try (GatewayExchange bearer = new GatewayExchange(
        PolicyLoader.parse("""
        identity_headers: { api_key: authorization }
        models:
          gpt-4o: { route: openai, model: gpt-4o }
        keys:
          key_e0dbaa0c6455: { tenant: acme }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry), CostTagging.builder(registry).build()))) {
      ExchangeResult r = bearer.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .header("authorization", "Bearer sk-test-123")
              .build(),
          Upstream.returning(UpstreamResponse.ok("application/json", "{}")));
      assertThat(GatewayExchange.metadata(r).get("api_key_id").getStringValue())
          .as("a bearer token counts by the token alone")
          .isEqualTo("key_e0dbaa0c6455");
      assertThat(GatewayExchange.metadata(r).get("tenant").getStringValue()).isEqualTo("acme");
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = CostThroughGatewayTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
