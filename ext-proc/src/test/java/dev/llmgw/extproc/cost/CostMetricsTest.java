package dev.llmgw.extproc.cost;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.extproc.tokens.ProviderUsage;
import dev.llmgw.extproc.tokens.TokenReport;
import dev.llmgw.extproc.tokens.Tokenizer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** The Prometheus names and tags operators query (docs/cost.md lists them), and bounded tag values. */
class CostMetricsTest {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final CostCalculator calculator = new CostCalculator(PriceCatalog.builtIn());

  @Test
  void prometheusExpositionUsesTheDocumentedNamesAndTags() {
    CostMetrics metrics = new CostMetrics(registry);
    // gpt-4o: 176 × 2.50/1e6 + 1,024 × 1.25/1e6 + 300 × 10/1e6 = 0.00472
    Cost cost = cost(new TokenReport(
        "gpt-4o-2024-08-06",
        Tokenizer.O200K_BASE,
        1200,
        true,
        -1,
        new ProviderUsage(1200, 300, 1500, 1024, -1, 0),
        -1,
        200,
        true));

    metrics.record("acme", "openai", cost);
    metrics.record("acme", "openai", cost);
    String text = registry.scrape();

    assertThat(text)
        .contains(
            "llmgw_cost_usd_total{estimated=\"false\",model=\"gpt-4o\",provider=\"openai\",tenant=\"acme\"} 0.00944")
        .contains(
            "llmgw_tokens_billed_total{kind=\"input\",model=\"gpt-4o\",provider=\"openai\",tenant=\"acme\"} 352.0")
        .contains(
            "llmgw_tokens_billed_total{kind=\"cached_input\",model=\"gpt-4o\",provider=\"openai\",tenant=\"acme\"} 2048.0")
        .contains(
            "llmgw_tokens_billed_total{kind=\"output\",model=\"gpt-4o\",provider=\"openai\",tenant=\"acme\"} 600.0")
        .doesNotContain("kind=\"reasoning\"")
        .doesNotContain("kind=\"cache_write\"");
  }

  @Test
  void estimatedSpendIsItsOwnSeries() {
    CostMetrics metrics = new CostMetrics(registry);
    // claude-haiku-4-5 estimated by the gateway: 1,000 × 1/1e6 + 200 × 5/1e6 = 0.002
    Cost cost = cost(new TokenReport(
        "claude-haiku-4-5", Tokenizer.ESTIMATE, 1000, false, -1, null, 200, 200, true));

    metrics.record("acme", "anthropic", cost);

    assertThat(registry.scrape())
        .contains(
            "llmgw_cost_usd_total{estimated=\"true\",model=\"claude-haiku-4-5\",provider=\"anthropic\",tenant=\"acme\"} 0.002");
  }

  @Test
  void tenantTagsAreBoundedAndAMissingTenantIsNone() {
    CostMetrics metrics = new CostMetrics(registry, 2);
    Cost cost = cost(new TokenReport(
        "gpt-4o-mini",
        Tokenizer.O200K_BASE,
        10,
        true,
        -1,
        new ProviderUsage(10, 0, 10, 0, -1, 0),
        -1,
        200,
        true));

    metrics.record(null, "openai", cost);
    metrics.record("", null, cost);
    metrics.record("t1", "openai", cost);
    metrics.record("t2", "openai", cost);
    metrics.record("t3", "openai", cost);
    metrics.record("t1", "openai", cost);
    String text = registry.scrape();

    assertThat(text)
        .contains("model=\"gpt-4o-mini\",provider=\"openai\",tenant=\"none\"}")
        .contains("model=\"gpt-4o-mini\",provider=\"unknown\",tenant=\"none\"}")
        .contains("tenant=\"t1\"")
        .contains("tenant=\"t2\"")
        .contains("tenant=\"other\"")
        .doesNotContain("tenant=\"t3\"");
  }

  @Test
  void unpricedExchangesAreCountedByReasonWithoutTheirModelName() {
    CostMetrics metrics = new CostMetrics(registry);

    metrics.unpriced("openai", Unpriced.Reason.UNKNOWN_MODEL);

    assertThat(registry.scrape())
        .contains("llmgw_cost_unpriced_total{provider=\"openai\",reason=\"unknown_model\"} 1.0");
  }

  private Cost cost(TokenReport report) {
    return calculator.cost(report).cost().orElseThrow();
  }
}
