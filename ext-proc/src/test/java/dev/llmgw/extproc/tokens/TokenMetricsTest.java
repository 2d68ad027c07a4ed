package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** The Prometheus names and tags operators query (docs/tokens.md lists them). */
class TokenMetricsTest {

  @Test
  void prometheusExpositionUsesTheDocumentedNamesTagsAndOpenTelemetryBuckets() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    TokenMetrics metrics = new TokenMetrics(registry);

    metrics.usage("openai", "gpt-4o", "input", "provider", 1500);
    metrics.promptCounted("claude-sonnet-4-5", "estimate", false, 120);
    metrics.countError("gpt-4o", "prompt", "o200k_base", true, 101, 101);
    metrics.countError("claude-sonnet-4-5", "prompt", "estimate", false, 120, 130);
    metrics.detail("gpt-4o", "cached_input", 1024);
    metrics.usageMissing("gpt-4o");
    metrics.countFailure("gpt-4o");
    String text = registry.scrape();

    assertThat(text)
        .contains(
            "gen_ai_client_token_usage_bucket{gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\","
                + "gen_ai_token_type=\"input\",source=\"provider\",le=\"4096.0\"} 1")
        .contains(
            "gen_ai_client_token_usage_bucket{gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\","
                + "gen_ai_token_type=\"input\",source=\"provider\",le=\"1024.0\"} 0")
        .contains(
            "llmgw_tokens_prompt_counted_sum{exact=\"false\",method=\"estimate\",model=\"claude-sonnet-4-5\"} 120.0")
        .contains(
            "llmgw_tokens_count_error_count{direction=\"match\",exact=\"true\",method=\"o200k_base\",model=\"gpt-4o\",part=\"prompt\"} 1")
        .contains(
            "llmgw_tokens_count_error_sum{direction=\"under\",exact=\"false\",method=\"estimate\",model=\"claude-sonnet-4-5\",part=\"prompt\"} 10.0")
        .contains("llmgw_tokens_detail_total{model=\"gpt-4o\",type=\"cached_input\"} 1024.0")
        .contains("llmgw_tokens_usage_missing_total{model=\"gpt-4o\"} 1.0")
        .contains("llmgw_tokens_count_failures_total{model=\"gpt-4o\"} 1.0");
  }
}
