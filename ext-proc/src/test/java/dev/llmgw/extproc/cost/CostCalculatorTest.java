package dev.llmgw.extproc.cost;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.tokens.ProviderUsage;
import dev.llmgw.extproc.tokens.ReportFixtures;
import dev.llmgw.extproc.tokens.TokenReport;
import dev.llmgw.extproc.tokens.Tokenizer;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Costs of real response shapes, each checked against a figure worked out by hand from the rates in
 * prices.yaml (US dollars per million tokens); the arithmetic is in the comment above each expected value.
 */
class CostCalculatorTest {

  private static final String VERSION = "2026-11-22.2";
  private final CostCalculator calculator = new CostCalculator(PriceCatalog.builtIn());

  // ---------------------------------------------------------------- OpenAI

  @Test
  void openAiJsonWithCachedTokensBillsTheCachedPartAtTheCachedRate() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o-2024-08-06",
        Tokenizer.O200K_BASE,
        1190,
        "/cost/openai-gpt-4o-cached.json");

    Cost cost = priced(report);

    // gpt-4o: 1,200 prompt incl. 1,024 cached, 300 completion
    // 176 × 2.50/1e6 + 1,024 × 1.25/1e6 + 300 × 10/1e6 = 0.00044 + 0.00128 + 0.003 = 0.00472
    assertThat(cost.usd()).isEqualByComparingTo("0.00472");
    assertThat(cost.model()).as("the dated snapshot is priced as gpt-4o").isEqualTo("gpt-4o");
    assertThat(cost.estimated()).isFalse();
    assertThat(cost.priceVersion()).isEqualTo(VERSION);
    Cost.Breakdown b = cost.breakdown();
    assertThat(new long[] {
          b.inputTokens(),
          b.cachedInputTokens(),
          b.cacheWriteTokens(),
          b.outputTokens(),
          b.reasoningTokens()
        })
        .containsExactly(176, 1024, 0, 300, 0);
    assertThat(b.inputUsd()).isEqualByComparingTo("0.00044");
    assertThat(b.cachedInputUsd()).isEqualByComparingTo("0.00128");
    assertThat(b.outputUsd()).isEqualByComparingTo("0.003");
  }

  @Test
  void openAiStreamedUsageOfTheLastChunkPricesCachedAndReasoningTokens() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-5-2025-08-07",
        Tokenizer.O200K_BASE,
        2040,
        "/cost/openai-gpt-5-stream.sse");

    Cost cost = priced(report);

    // gpt-5: 2,048 prompt incl. 1,536 cached; 1,200 completion incl. 896 reasoning
    // 512 × 1.25/1e6 + 1,536 × 0.125/1e6 + 304 × 10/1e6 + 896 × 10/1e6
    //   = 0.00064 + 0.000192 + 0.00304 + 0.00896 = 0.012832
    assertThat(cost.usd()).isEqualByComparingTo("0.012832");
    assertThat(cost.breakdown().reasoningTokens()).isEqualTo(896);
    assertThat(cost.breakdown().reasoningUsd()).isEqualByComparingTo("0.00896");
    assertThat(cost.estimated()).isFalse();
  }

  @Test
  void oSeriesReasoningTokensAreBilledAtTheReasoningRateWhichIsTheOutputRate() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "o3-2025-04-16",
        Tokenizer.O200K_BASE,
        1100,
        "/tokens/openai-chat-usage.json");

    Cost cost = priced(report);

    // o3: 1,117 prompt incl. 1,024 cached; 346 completion incl. 320 reasoning
    // 93 × 2/1e6 + 1,024 × 0.50/1e6 + 26 × 8/1e6 + 320 × 8/1e6
    //   = 0.000186 + 0.000512 + 0.000208 + 0.00256 = 0.003466
    assertThat(cost.usd()).isEqualByComparingTo("0.003466");
    assertThat(cost.model()).isEqualTo("o3");
  }

  @Test
  void responsesApiStreamIsPricedFromResponseCompleted() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_RESPONSES,
        "o4-mini-2025-04-16",
        Tokenizer.O200K_BASE,
        30,
        "/tokens/openai-responses-stream.sse");

    Cost cost = priced(report);

    // o4-mini: 37 prompt, 139 completion incl. 128 reasoning
    // 37 × 1.10/1e6 + 11 × 4.40/1e6 + 128 × 4.40/1e6 = 0.0000407 + 0.0000484 + 0.0005632 =
    // 0.0006523
    assertThat(cost.usd()).isEqualByComparingTo("0.0006523");
  }

  @Test
  void recordedChatStreamOfASmallModelIsPricedExactlyWithoutRounding() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o-mini-2024-07-18",
        Tokenizer.O200K_BASE,
        12,
        "/recorded/openai-chat-stream.sse");

    Cost cost = priced(report);

    // gpt-4o-mini: 12 × 0.15/1e6 + 6 × 0.60/1e6 = 0.0000018 + 0.0000036 = 0.0000054
    assertThat(cost.usd()).isEqualTo(new BigDecimal("0.000005400000"));
    assertThat(cost.usd().scale()).isEqualTo(Cost.USD_SCALE);
  }

  @Test
  void embeddingsArePricedOnInputOnly() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_EMBEDDINGS,
        "text-embedding-3-small",
        Tokenizer.CL100K_BASE,
        8,
        "/tokens/openai-embeddings.json");

    Cost cost = priced(report);

    // text-embedding-3-small: 8 × 0.02/1e6 = 0.00000016
    assertThat(cost.usd()).isEqualByComparingTo("0.00000016");
    assertThat(cost.estimated()).isFalse();
  }

  // ---------------------------------------------------------------- Anthropic

  @Test
  void anthropicJsonBillsCacheReadsAndCacheWritesAtTheirOwnRates() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-sonnet-4-5",
        Tokenizer.ESTIMATE,
        3900,
        "/cost/anthropic-cache-read-and-write.json");

    Cost cost = priced(report);

    // claude-sonnet-4-5: input_tokens 50, cache_read 3,000, cache_creation 1,000, output 400
    // 50 × 3/1e6 + 3,000 × 0.30/1e6 + 1,000 × 3.75/1e6 + 400 × 15/1e6
    //   = 0.00015 + 0.0009 + 0.00375 + 0.006 = 0.0108
    assertThat(cost.usd()).isEqualByComparingTo("0.0108");
    Cost.Breakdown b = cost.breakdown();
    assertThat(new long[] {
          b.inputTokens(), b.cachedInputTokens(), b.cacheWriteTokens(), b.outputTokens()
        })
        .containsExactly(50, 3000, 1000, 400);
    assertThat(cost.estimated())
        .as("Anthropic reported usage: the gateway's estimate played no part")
        .isFalse();
  }

  @Test
  void anthropicJsonWithALargeCacheWriteBelowTheLongContextThresholdUsesTheBaseRates() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-sonnet-4-5",
        Tokenizer.ESTIMATE,
        190000,
        "/tokens/anthropic-messages.json");

    Cost cost = priced(report);

    // claude-sonnet-4-5: 21 input + 188,086 cache writes = 188,107 prompt (≤ 200,000), 393 output
    // 21 × 3/1e6 + 188,086 × 3.75/1e6 + 393 × 15/1e6 = 0.000063 + 0.7053225 + 0.005895 = 0.7112805
    assertThat(cost.usd()).isEqualByComparingTo("0.7112805");
    assertThat(cost.breakdown().longContext()).isFalse();
  }

  @Test
  void anthropicStreamTakesCacheReadsFromMessageStartAndOutputFromMessageDelta() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-opus-4-1",
        Tokenizer.ESTIMATE,
        2400,
        "/tokens/anthropic-messages-stream-tool-use.sse");

    Cost cost = priced(report);

    // claude-opus-4-1: message_start input 472, cache_read 2,048; message_delta output 89 (not
    // message_start's 2)
    // 472 × 15/1e6 + 2,048 × 1.50/1e6 + 89 × 75/1e6 = 0.00708 + 0.003072 + 0.006675 = 0.016827
    assertThat(cost.usd()).isEqualByComparingTo("0.016827");
    assertThat(cost.estimated()).isFalse();
  }

  @Test
  void anthropicStreamWithACacheWriteBillsItAtTheCacheWriteRate() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-haiku-4-5-20251001",
        Tokenizer.ESTIMATE,
        2000,
        "/cost/anthropic-stream-cache-write.sse");

    Cost cost = priced(report);

    // claude-haiku-4-5: input 12, cache_creation 2,100, output 57
    // 12 × 1/1e6 + 2,100 × 1.25/1e6 + 57 × 5/1e6 = 0.000012 + 0.002625 + 0.000285 = 0.002922
    assertThat(cost.usd()).isEqualByComparingTo("0.002922");
    assertThat(cost.breakdown().cacheWriteTokens()).isEqualTo(2100);
  }

  @Test
  void anthropicOneHourCacheWritesAreBilledAtTheOneHourRateAndFiveMinuteWritesAtTheirs() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-sonnet-4-5",
        Tokenizer.ESTIMATE,
        6000,
        "/cost/anthropic-cache-write-1h.json");

    Cost cost = priced(report);

    // claude-sonnet-4-5: input 1,000, cache_read 2,000, cache writes 3,000 = 2,000 for 5 min +
    // 1,000 for 1 h, output 500
    // 1,000 × 3/1e6 + 2,000 × 0.30/1e6 + 2,000 × 3.75/1e6 + 1,000 × 6/1e6 + 500 × 15/1e6
    //   = 0.003 + 0.0006 + 0.0075 + 0.006 + 0.0075 = 0.0246
    assertThat(cost.usd()).isEqualByComparingTo("0.0246");
    Cost.Breakdown b = cost.breakdown();
    assertThat(b.cacheWriteTokens()).as("both lifetimes are cache writes").isEqualTo(3000);
    // 0.0075 + 0.006
    assertThat(b.cacheWriteUsd()).isEqualByComparingTo("0.0135");
  }

  @Test
  void anthropicStreamWithOneHourCacheWritesBillsThemAtTheOneHourRate() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-haiku-4-5-20251001",
        Tokenizer.ESTIMATE,
        2000,
        "/cost/anthropic-stream-cache-write-1h.sse");

    Cost cost = priced(report);

    // claude-haiku-4-5: input 12, cache_creation 2,100 all for one hour, output 57
    // 12 × 1/1e6 + 2,100 × 2/1e6 + 57 × 5/1e6 = 0.000012 + 0.0042 + 0.000285 = 0.004497
    assertThat(cost.usd()).isEqualByComparingTo("0.004497");
  }

  @Test
  void withoutAOneHourRateOneHourWritesAreBilledAsCacheWrites(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("prices.yaml");
    Files.writeString(file, """
        version: "t-1"
        models:
          claude-haiku-4-5:
            input: "1"
            cache_write: "1.25"
            output: "5"
            source: "contract"
            as_of: "2026-11-22"
        """);
    CostCalculator withoutOneHourRate = new CostCalculator(PriceCatalog.load(file));
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-haiku-4-5-20251001",
        Tokenizer.ESTIMATE,
        2000,
        "/cost/anthropic-stream-cache-write-1h.sse");

    Cost cost = (Cost) withoutOneHourRate.cost(report);

    // 12 × 1/1e6 + 2,100 × 1.25/1e6 + 57 × 5/1e6 = 0.000012 + 0.002625 + 0.000285 = 0.002922
    assertThat(cost.usd()).isEqualByComparingTo("0.002922");
  }

  @Test
  void sonnetPromptsAboveTwoHundredThousandTokensBillEveryTokenAtTheLongContextRates() {
    // 10,000 uncached + 200,000 cache reads + 40,000 cache writes = 250,000 prompt tokens; 2,000
    // output
    TokenReport report = providerReport(
        "claude-sonnet-4-5-20250929", new ProviderUsage(250000, 2000, 252000, 200000, 40000, -1));

    Cost cost = priced(report);

    // 10,000 × 6/1e6 + 200,000 × 0.60/1e6 + 40,000 × 7.50/1e6 + 2,000 × 22.50/1e6
    //   = 0.06 + 0.12 + 0.3 + 0.045 = 0.525
    assertThat(cost.usd()).isEqualByComparingTo("0.525");
    assertThat(cost.breakdown().longContext()).isTrue();
  }

  @Test
  void aPromptOfExactlyTheThresholdStaysAtTheBaseRates() {
    TokenReport report =
        providerReport("claude-sonnet-4-5", new ProviderUsage(200000, 1000, 201000, 0, 0, -1));

    Cost cost = priced(report);

    // 200,000 × 3/1e6 + 1,000 × 15/1e6 = 0.6 + 0.015 = 0.615
    assertThat(cost.usd()).isEqualByComparingTo("0.615");
    assertThat(cost.breakdown().longContext()).isFalse();
  }

  // ---------------------------------------------------------------- without provider usage

  @Test
  void withoutUsageTheGatewaysCountsArePricedAndLabelledEstimated() {
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o-mini",
        Tokenizer.O200K_BASE,
        25,
        "/tokens/openai-chat-no-usage.json");

    Cost cost = priced(report);

    // gpt-4o-mini, counted by the gateway: 25 prompt, 10 completion (o200k_base count of the reply
    // text)
    // 25 × 0.15/1e6 + 10 × 0.60/1e6 = 0.00000375 + 0.000006 = 0.00000975
    assertThat(report.completionSource()).isEqualTo(TokenReport.Source.COUNTED);
    assertThat(cost.breakdown().outputTokens()).isEqualTo(10);
    assertThat(cost.usd()).isEqualByComparingTo("0.00000975");
    assertThat(cost.estimated()).isTrue();
  }

  @Test
  void aClaudeExchangeWithoutUsageIsPricedFromTheEstimateWithNoCacheDiscount() {
    TokenReport report = new TokenReport(
        "claude-haiku-4-5", Tokenizer.ESTIMATE, 1000, false, 512, null, 200, 200, true);

    Cost cost = priced(report);

    // claude-haiku-4-5, estimated by the gateway: 1,000 × 1/1e6 + 200 × 5/1e6 = 0.001 + 0.001 =
    // 0.002
    assertThat(cost.usd()).isEqualByComparingTo("0.002");
    assertThat(cost.estimated()).isTrue();
    assertThat(cost.breakdown().cachedInputTokens()).isZero();
  }

  @Test
  void anUnknownCompletionCostsThePromptOnlyAndIsEstimated() {
    // The stream ended before any response text and without usage: completion -1 (UNKNOWN).
    TokenReport report =
        new TokenReport("gpt-4.1", Tokenizer.O200K_BASE, 5000, true, -1, null, -1, 200, false);

    Cost cost = priced(report);

    // gpt-4.1: 5,000 × 2/1e6 = 0.01
    assertThat(report.completionSource()).isEqualTo(TokenReport.Source.UNKNOWN);
    assertThat(cost.usd()).isEqualByComparingTo("0.01");
    assertThat(cost.breakdown().outputTokens()).isZero();
    assertThat(cost.estimated()).isTrue();
  }

  @Test
  void aProviderPromptWithACountedCompletionIsStillAnEstimate() {
    // Usage with the prompt only (a stream cut before its final usage): the completion is the
    // gateway's count.
    TokenReport report = new TokenReport(
        "gpt-4o",
        Tokenizer.O200K_BASE,
        100,
        true,
        -1,
        new ProviderUsage(100, -1, -1, -1, -1, -1),
        40,
        200,
        false);

    Cost cost = priced(report);

    // 100 × 2.50/1e6 + 40 × 10/1e6 = 0.00025 + 0.0004 = 0.00065
    assertThat(cost.usd()).isEqualByComparingTo("0.00065");
    assertThat(cost.estimated()).isTrue();
  }

  // ---------------------------------------------------------------- not priced

  @Test
  void anUnknownModelHasNoCostAndSaysWhy() {
    TokenReport report =
        providerReport("llama-3.3-70b-instruct", new ProviderUsage(10, 5, 15, -1, -1, -1));

    CostResult result = calculator.cost(report);

    assertThat(result.cost()).isEmpty();
    Unpriced unpriced = result.unpriced().orElseThrow();
    assertThat(unpriced.reason()).isEqualTo(Unpriced.Reason.UNKNOWN_MODEL);
    assertThat(unpriced.detail()).contains("llama-3.3-70b-instruct").contains(VERSION);
  }

  @Test
  void anErrorResponseWithoutUsageIsNotPriced() {
    TokenReport report =
        new TokenReport("gpt-4o", Tokenizer.O200K_BASE, 900, true, -1, null, -1, 429, true);

    CostResult result = calculator.cost(report);

    assertThat(result.cost()).isEmpty();
    assertThat(result.unpriced().orElseThrow().reason()).isEqualTo(Unpriced.Reason.UPSTREAM_ERROR);
    assertThat(result.unpriced().orElseThrow().detail()).contains("429");
  }

  @Test
  void outputTokensOfAModelWithoutAnOutputRateAreNotGuessed() {
    TokenReport report =
        providerReport("text-embedding-3-large", new ProviderUsage(10, 3, 13, -1, -1, -1));

    CostResult result = calculator.cost(report);

    assertThat(result.unpriced().orElseThrow().reason()).isEqualTo(Unpriced.Reason.NO_OUTPUT_PRICE);
  }

  // ---------------------------------------------------------------- names and operator prices

  @Test
  void aSnapshotWithItsOwnPriceIsNotPricedAsItsFamily() {
    TokenReport report =
        providerReport("gpt-4o-2024-05-13", new ProviderUsage(1000, 100, 1100, 0, -1, 0));

    Cost cost = priced(report);

    // gpt-4o-2024-05-13: 1,000 × 5/1e6 + 100 × 15/1e6 = 0.005 + 0.0015 = 0.0065 (gpt-4o would give
    // 0.0035)
    assertThat(cost.model()).isEqualTo("gpt-4o-2024-05-13");
    assertThat(cost.usd()).isEqualByComparingTo("0.0065");
  }

  @Test
  void operatorPricesReplaceTheBuiltInOnesAndNameBothVersions(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("acme-prices.yaml");
    Files.writeString(file, """
        version: "acme-7"
        models:
          gpt-4o:
            input: "2.00"
            cached_input: "1.00"
            output: "8.00"
            source: "ACME enterprise agreement, schedule B"
            as_of: "2026-10-01"
        """);
    CostCalculator withOperator =
        new CostCalculator(PriceCatalog.builtIn().overriddenBy(PriceCatalog.load(file)));
    TokenReport report = ReportFixtures.fromResponse(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o-2024-08-06",
        Tokenizer.O200K_BASE,
        1190,
        "/cost/openai-gpt-4o-cached.json");

    Cost cost = withOperator.cost(report).cost().orElseThrow();

    // negotiated gpt-4o: 176 × 2/1e6 + 1,024 × 1/1e6 + 300 × 8/1e6 = 0.000352 + 0.001024 + 0.0024 =
    // 0.003776
    assertThat(cost.usd()).isEqualByComparingTo("0.003776");
    assertThat(cost.priceVersion()).isEqualTo(VERSION + "+acme-7");
  }

  private Cost priced(TokenReport report) {
    CostResult result = calculator.cost(report);
    assertThat(result.unpriced()).as("priced").isEmpty();
    return result.cost().orElseThrow();
  }

  private static TokenReport providerReport(String model, ProviderUsage usage) {
    return new TokenReport(
        model, Tokenizer.O200K_BASE, (int) usage.promptTokens(), true, -1, usage, -1, 200, true);
  }
}
