package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What operators see and what limits do, through the real Envoy: tokens and cost in the access-log
 * line, Envoy's ext_proc and provider stats, budgets and rate limits answering 429 in the caller's
 * error shape, and spend reaching the control plane's ledger.
 */
@RequiresEnvoy
class AccountingEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("llm");

  @BeforeAll
  static void aliases() {
    Gateway gw = GATEWAY.get();
    gw.rest("PUT", "/v1/models/gpt-4o-mini", "{\"route\":\"llm\",\"model\":\"gpt-4o-mini\"}");
    gw.put(
        "/v1/models/claude-3-5-haiku-latest",
        "{\"route\":\"llm\",\"model\":\"claude-3-5-haiku-latest\"}");
  }

  private static HttpResponse<String> openai(Gateway gw, String tenant) {
    return gw.post(
        "/v1/chat/completions",
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"how many tokens is this?\"}]}",
        "x-llmgw-tenant",
        tenant);
  }

  private static HttpResponse<String> anthropic(Gateway gw, String tenant) {
    return gw.post(
        "/v1/messages",
        "{\"model\":\"claude-3-5-haiku-latest\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "x-llmgw-tenant",
        tenant,
        "anthropic-version",
        "2023-06-01");
  }

  private static Optional<JsonNode> accessLogOf(Gateway gw, String tenant) {
    return gw.accessLog().stream()
        .filter(l -> tenant.equals(l.path("tenant").asText()))
        .reduce((a, b) -> b);
  }

  @Test
  void tokensAndCostAppearInTheAccessLogLine() {
    Gateway gw = GATEWAY.get();
    HttpResponse<String> r = openai(gw, "logged");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode usage = Gateway.json(r.body()).path("usage");

    JsonNode line = await("the access-log line of tenant 'logged'")
        .atMost(Duration.ofSeconds(15))
        .until(() -> accessLogOf(gw, "logged"), Optional::isPresent)
        .orElseThrow();

    assertThat(line.path("status").asInt()).isEqualTo(200);
    assertThat(line.path("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(line.path("prompt_tokens").asLong())
        .isEqualTo(usage.path("prompt_tokens").asLong());
    assertThat(line.path("completion_tokens").asLong())
        .isEqualTo(usage.path("completion_tokens").asLong());
    assertThat(line.path("cost_usd").asText()).matches("0\\.[0-9]*[1-9][0-9]*");
    assertThat(line.path("upstream_cluster").asText()).isEqualTo("llmgw_provider_llm");
  }

  @Test
  void envoyExportsExtProcAndPerProviderStatsForPrometheus() {
    Gateway gw = GATEWAY.get();
    assertThat(openai(gw, "stats").statusCode()).isEqualTo(200);

    String prometheus = gw.prometheus();

    assertThat(prometheus).containsPattern("envoy_http_ext_proc_streams_started\\{[^}]*\\} [1-9]");
    assertThat(prometheus)
        .containsPattern(
            "envoy_cluster_upstream_rq_total\\{envoy_cluster_name=\"llmgw_provider_llm\"\\} [1-9]");
    assertThat(gw.extProcMetrics()).contains("llmgw_extproc_streams_total");
  }

  @Test
  void aRateLimitAnswers429InTheCallersErrorShape() {
    Gateway gw = GATEWAY.get();
    gw.put(
        "/v1/rate-limits/two-a-minute",
        "{\"scope\":\"tenant\",\"id\":\"hasty\",\"requests_per_minute\":2}");

    assertThat(openai(gw, "hasty").statusCode()).isEqualTo(200);
    assertThat(openai(gw, "hasty").statusCode()).isEqualTo(200);
    HttpResponse<String> refused = openai(gw, "hasty");
    HttpResponse<String> refusedAnthropic = anthropic(gw, "hasty");

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(Gateway.json(refused.body()).path("error").path("code").asText())
        .isEqualTo("rate_limit_exceeded");
    assertThat(refused.headers().firstValue("retry-after")).isPresent();
    assertThat(refusedAnthropic.statusCode()).isEqualTo(429);
    assertThat(Gateway.json(refusedAnthropic.body()).path("error").path("type").asText())
        .isEqualTo("rate_limit_error");
    assertThat(openai(gw, "patient").statusCode())
        .as("another tenant is not limited")
        .isEqualTo(200);
  }

  @Test
  void anExhaustedBudgetAnswers429InTheCallersErrorShape() {
    Gateway gw = GATEWAY.get();
    gw.put(
        "/v1/budgets/broke-daily",
        "{\"scope\":\"tenant\",\"id\":\"broke\",\"period\":\"daily\",\"limit_usd\":\"0.000001\"}");

    HttpResponse<String> refused = openai(gw, "broke");

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(Gateway.json(refused.body()).path("error").path("code").asText())
        .isEqualTo("budget_exceeded");
    assertThat(Gateway.json(refused.body()).path("error").path("message").asText())
        .contains("broke");
  }

  @Test
  void spendReachesTheLedgerAndTheSpendApi() {
    Gateway gw = GATEWAY.get();
    for (int i = 0; i < 3; i++) {
      assertThat(openai(gw, "spender").statusCode()).isEqualTo(200);
    }
    assertThat(anthropic(gw, "spender").statusCode()).isEqualTo(200);

    JsonNode spend = await("spend of tenant 'spender' in /v1/spend")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> gw.rest("GET", "/v1/spend?tenant=spender&group_by=model", null),
            s -> s.path("total_requests").asLong() == 4);

    assertThat(spend.path("rows")).hasSize(2);
    assertThat(spend.path("total_cost_usd").asText()).isNotEqualTo("0");
    assertThat(spend.path("rows").findValuesAsText("model"))
        .containsExactlyInAnyOrder("gpt-4o-mini", "claude-3-5-haiku-latest");
  }
}
