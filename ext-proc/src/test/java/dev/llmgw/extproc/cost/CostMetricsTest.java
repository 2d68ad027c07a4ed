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

    metrics.record("acme", "chat", "openai", cost);
    metrics.record("acme", "chat", "openai", cost);
    String text = registry.scrape();

    assertThat(text)
        .contains(
            "llmgw_cost_usd_total{estimated=\"false\",model=\"gpt-4o\",provider=\"openai\",route=\"chat\",tenant=\"acme\"} 0.00944")
        .contains(
            "llmgw_tokens_billed_total{kind=\"input\",model=\"gpt-4o\",provider=\"openai\",route=\"chat\",tenant=\"acme\"} 352.0")
        .contains(
            "llmgw_tokens_billed_total{kind=\"cached_input\",model=\"gpt-4o\",provider=\"openai\",route=\"chat\",tenant=\"acme\"} 2048.0")
        .contains(
            "llmgw_tokens_billed_total{kind=\"output\",model=\"gpt-4o\",provider=\"openai\",route=\"chat\",tenant=\"acme\"} 600.0")
        .doesNotContain("kind=\"reasoning\"")
        .doesNotContain("kind=\"cache_write\"");
  }

  @Test
  void theRouteAndTheProviderThatServedItAreSeparateTags() {
    CostMetrics metrics = new CostMetrics(registry);
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

    metrics.record("acme", "split", "primary", cost);
    metrics.record("acme", "split", "secondary", cost);
    metrics.record("acme", null, "primary", cost);

    assertThat(registry.scrape())
        .contains("model=\"gpt-4o-mini\",provider=\"primary\",route=\"split\",tenant=\"acme\"}")
        .contains("model=\"gpt-4o-mini\",provider=\"secondary\",route=\"split\",tenant=\"acme\"}")
        .contains("model=\"gpt-4o-mini\",provider=\"primary\",route=\"none\",tenant=\"acme\"}");
  }

  @Test
  void estimatedSpendIsItsOwnSeries() {
    CostMetrics metrics = new CostMetrics(registry);
    // claude-haiku-4-5 estimated by the gateway: 1,000 × 1/1e6 + 200 × 5/1e6 = 0.002
    Cost cost = cost(new TokenReport(
        "claude-haiku-4-5", Tokenizer.ESTIMATE, 1000, false, -1, null, 200, 200, true));

    metrics.record("acme", "claude", "anthropic", cost);

    assertThat(registry.scrape())
        .contains(
            "llmgw_cost_usd_total{estimated=\"true\",model=\"claude-haiku-4-5\",provider=\"anthropic\",route=\"claude\",tenant=\"acme\"} 0.002");
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

    metrics.record(null, "chat", "openai", cost);
    metrics.record("", "chat", null, cost);
    metrics.record("t1", "chat", "openai", cost);
    metrics.record("t2", "chat", "openai", cost);
    metrics.record("t3", "chat", "openai", cost);
    metrics.record("t1", "chat", "openai", cost);
    String text = registry.scrape();

    assertThat(text)
        .contains("model=\"gpt-4o-mini\",provider=\"openai\",route=\"chat\",tenant=\"none\"}")
        .contains("model=\"gpt-4o-mini\",provider=\"unknown\",route=\"chat\",tenant=\"none\"}")
        .contains("tenant=\"t1\"")
        .contains("tenant=\"t2\"")
        .contains("tenant=\"other\"")
        .doesNotContain("tenant=\"t3\"");
  }

  @Test
  void unpricedExchangesAreCountedByReasonWithoutTheirModelName() {
    CostMetrics metrics = new CostMetrics(registry);

    metrics.unpriced("chat", "openai", Unpriced.Reason.UNKNOWN_MODEL);

    assertThat(registry.scrape())
        .contains(
            "llmgw_cost_unpriced_total{provider=\"openai\",reason=\"unknown_model\",route=\"chat\"} 1.0");
  }

  private Cost cost(TokenReport report) {
    return calculator.cost(report).cost().orElseThrow();
  }
}
