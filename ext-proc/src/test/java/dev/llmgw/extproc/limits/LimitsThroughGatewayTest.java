package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.tokens.TokenCounting;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Budgets and rate limits through the real ext-proc, with token counting and cost tagging in front. */
class LimitsThroughGatewayTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** gpt-4o-mini: 0.15 input / 0.60 output per million tokens. */
  private static final String POLICY = """
      models:
        mini: { route: openai, model: gpt-4o-mini }
      limits:
        budgets:
          - { scope: tenant, id: acme, period: daily, limit_usd: "0.0014" }
        rates:
          - { scope: tenant, id: rpm, requests_per_minute: 2 }
      """;

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
  private final AtomicInteger forwarded = new AtomicInteger();
  private GatewayExchange gw;

  @BeforeEach
  void start() throws Exception {
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

  /**
   * A request of a few prompt tokens and up to 1,000 output tokens, estimated at about $0.0006, whose
   * provider reports 1,000 prompt and 1,000 completion tokens: $0.00015 + $0.0006 = $0.00075.
   */
  private ExchangeResult call(String tenant) {
    return gw.exchange(
        GatewayExchange.post(
                "/v1/chat/completions",
                "{\"model\":\"mini\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .header("x-llmgw-tenant", tenant)
            .build(),
        request -> {
          forwarded.incrementAndGet();
          return UpstreamResponse.ok(
              "application/json",
              "{\"model\":\"gpt-4o-mini\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}");
        });
  }

  @Test
  void aBudgetIsChargedWithActualCostAndRefusesWithWhatRemainsAndWhenItResets() throws Exception {
    ExchangeResult first = call("acme");
    assertThat(first.clientResponse().status()).isEqualTo(200);
    assertThat(GatewayExchange.metadata(first).get("cost_usd").getStringValue())
        .isEqualTo("0.00075");

    // The second estimate (a few prompt tokens + 1,000 output, about $0.0006) fits in the $0.00065
    // left; its actual cost ($0.00075) does not, and is still counted: overspend comes only from
    // in-flight requests.
    assertThat(call("acme").clientResponse().status()).isEqualTo(200);
    ExchangeResult refused = call("acme");
    assertThat(refused.clientResponse().status()).isEqualTo(429);
    assertThat(forwarded.get()).isEqualTo(2);
    JsonNode error = JSON.readTree(refused.clientResponse().bodyUtf8()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("rate_limit_error");
    assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
    assertThat(error.path("message").asText()).contains("acme").contains("2026-11-23T00:00:00Z");
    assertThat(refused.clientResponse().headers().get("retry-after"))
        .contains(Long.toString(Duration.ofHours(14).toSeconds()));

    assertThat(call("other").clientResponse().status())
        .as("other tenants have no budget")
        .isEqualTo(200);
    clock.advance(Duration.ofHours(14));
    assertThat(call("acme").clientResponse().status())
        .as("a new day, a new budget")
        .isEqualTo(200);
  }

  @Test
  void requestsPerMinuteAreCountedBeforeForwardingAndFreedAsTheWindowMoves() {
    assertThat(call("rpm").clientResponse().status()).isEqualTo(200);
    assertThat(call("rpm").clientResponse().status()).isEqualTo(200);
    ExchangeResult third = call("rpm");
    assertThat(third.clientResponse().status()).isEqualTo(429);
    assertThat(third.clientResponse().headers().get("retry-after")).isPresent();
    clock.advance(Duration.ofSeconds(61));
    assertThat(call("rpm").clientResponse().status()).isEqualTo(200);
  }

  @Test
  void aSpentBudgetWithADowngradeSendsRequestsToTheCheaperModelAndChargesItsPrice()
      throws Exception {
    try (GatewayExchange gw2 = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          smart: { route: openai, model: gpt-4o }
          fast: { route: openai, model: gpt-4o-mini }
        limits:
          budgets:
            - { scope: tenant, id: acme, period: daily, limit_usd: "0.004", downgrade_to: fast }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry).build(),
            new LimitEnforcement(LocalLimitStore.create(), clock, registry)))) {
      List<String> models = new java.util.ArrayList<>();
      List<ExchangeResult> results = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        results.add(gw2.exchange(
            GatewayExchange.post(
                    "/v1/chat/completions",
                    "{\"model\":\"smart\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .header("x-llmgw-tenant", "acme")
                .build(),
            request -> {
              String model;
              try {
                model = JSON.readTree(request.bodyUtf8()).path("model").asText();
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
              models.add(model);
              assertThat(request.headers().get("content-length"))
                  .contains(Integer.toString(request.body().size()));
              return UpstreamResponse.ok(
                  "application/json",
                  "{\"model\":\"" + model
                      + "\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}");
            }));
      }
      // gpt-4o: 1,000 × 2.50/1e6 + 100 × 10/1e6 = $0.0035 spent; the second estimate (about $0.001)
      // does not fit in the $0.0005 left, so the second request is downgraded.
      assertThat(models).containsExactly("gpt-4o", "gpt-4o-mini", "gpt-4o-mini");
      assertThat(results)
          .allSatisfy(r -> assertThat(r.clientResponse().status()).isEqualTo(200));
      var meta = GatewayExchange.metadata(results.get(1));
      assertThat(meta.get("downgraded_from").getStringValue()).isEqualTo("gpt-4o");
      assertThat(meta.get("model").getStringValue()).isEqualTo("gpt-4o-mini");
      // gpt-4o-mini: 1,000 × 0.15/1e6 + 100 × 0.60/1e6
      assertThat(meta.get("cost_usd").getStringValue()).isEqualTo("0.00021");
    }
  }

  @Test
  void aDowngradeChecksTheContextWindowOfTheCheaperModelAndOwesNothingWhenItRefuses()
      throws Exception {
    // gpt-4 has an 8,192-token window; gpt-4o 128k. The long prompt fits gpt-4o only.
    String longPrompt = "hello ".repeat(9_000);
    try (GatewayExchange gw2 = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          smart: { route: openai, model: gpt-4o }
          small: { route: openai, model: gpt-4 }
        limits:
          budgets:
            - { scope: tenant, id: acme, period: daily, limit_usd: "0.01", downgrade_to: small }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry).build(),
            new LimitEnforcement(LocalLimitStore.create(), clock, registry)))) {
      java.util.function.Function<String, ExchangeResult> send = prompt -> gw2.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"smart\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\""
                      + prompt + "\"}]}")
              .header("x-llmgw-tenant", "acme")
              .build(),
          request -> {
            forwarded.incrementAndGet();
            return UpstreamResponse.ok(
                "application/json",
                "{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000}}");
          });
      assertThat(send.apply("hi").clientResponse().status()).isEqualTo(200);

      ExchangeResult refused = send.apply(longPrompt);

      assertThat(forwarded.get())
          .as("only the first request reached the provider")
          .isEqualTo(1);
      assertThat(refused.clientResponse().status()).isEqualTo(400);
      JsonNode error = JSON.readTree(refused.clientResponse().bodyUtf8()).path("error");
      assertThat(error.path("code").asText()).isEqualTo("context_length_exceeded");
      assertThat(error.path("message").asText()).contains("8192");
      // The refused request holds nothing: a short one still fits the cheaper model's budget.
      ExchangeResult after = send.apply("hi");
      assertThat(after.clientResponse().status()).isEqualTo(200);
      assertThat(GatewayExchange.metadata(after).get("model").getStringValue()).isEqualTo("gpt-4");
    }
  }

  @Test
  void aRouteBudgetHoldsAllTrafficOfTheRouteWhoeverSendsIt() throws Exception {
    try (GatewayExchange gw2 = new GatewayExchange(
        PolicyLoader.parse("""
        models:
          mini: { route: openai, model: gpt-4o-mini }
        limits:
          budgets:
            - { scope: route, id: openai, period: daily, limit_usd: "0.0014" }
        """, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry).build(),
            new LimitEnforcement(LocalLimitStore.create(), clock, registry)))) {
      List<Integer> statuses = new java.util.ArrayList<>();
      for (String tenant : List.of("a", "b", "c")) {
        statuses.add(gw2.exchange(
                GatewayExchange.post(
                        "/v1/chat/completions",
                        "{\"model\":\"mini\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .header("x-llmgw-tenant", tenant)
                    .build(),
                request -> UpstreamResponse.ok(
                    "application/json",
                    "{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000}}"))
            .clientResponse()
            .status());
      }
      // $0.00075 each against $0.0014 for the whole route, whatever the tenant.
      assertThat(statuses).containsExactly(200, 200, 429);
    }
  }

  /** Two ext-proc replicas, each its own server, listeners and Redis connection pool, one budget. */
  @Test
  void twoReplicasSharingRedisEnforceOneBudget() throws Exception {
    RedisServerExtension.requireBinary();
    RedisServer server = RedisServer.start(RedisServerExtension.requireBinary());
    try (RedisLimitStore storeA =
            RedisLimitStore.connect("127.0.0.1", server.port(), Duration.ofSeconds(2), 4);
        RedisLimitStore storeB =
            RedisLimitStore.connect("127.0.0.1", server.port(), Duration.ofSeconds(2), 4);
        GatewayExchange a = replica(storeA);
        GatewayExchange b = replica(storeB)) {
      // $0.0014 a day and $0.00075 per exchange: two are admitted, then the spend leaves no room
      // for
      // an
      // estimate, whichever replica a request reaches.
      int ok = 0;
      int refused = 0;
      for (GatewayExchange gateway : List.of(a, b, a, b)) {
        int status = gateway
            .exchange(
                GatewayExchange.post(
                        "/v1/chat/completions",
                        "{\"model\":\"mini\",\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                    .header("x-llmgw-tenant", "acme")
                    .build(),
                request -> UpstreamResponse.ok(
                    "application/json",
                    "{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000}}"))
            .clientResponse()
            .status();
        if (status == 200) {
          ok++;
        } else {
          assertThat(status).isEqualTo(429);
          refused++;
        }
      }
      assertThat(ok).isEqualTo(2);
      assertThat(refused).isEqualTo(2);
    } finally {
      server.close();
    }
  }

  private GatewayExchange replica(LimitStore store) throws Exception {
    return new GatewayExchange(
        PolicyLoader.parse(POLICY, "test"),
        registry -> List.of(
            TokenCounting.listener(registry),
            CostTagging.builder(registry).build(),
            new LimitEnforcement(store, clock, registry)));
  }
}
