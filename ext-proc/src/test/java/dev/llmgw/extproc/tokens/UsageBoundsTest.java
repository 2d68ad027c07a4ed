package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.tokens.UsageBounds.Reason;
import org.junit.jupiter.api.Test;

/** Each rule of {@link UsageBounds} at its boundary: the largest believable figure, and one more. */
class UsageBoundsTest {

  private static final ModelCatalog CATALOG = ModelCatalog.builtIn();
  private static final ModelSpec GPT_4O = CATALOG.resolve("gpt-4o", LlmApi.Family.OPENAI);
  private static final ModelSpec SONNET =
      CATALOG.resolve("claude-sonnet-4-5", LlmApi.Family.ANTHROPIC);
  private static final ModelSpec UNLISTED = CATALOG.resolve("my-llama", LlmApi.Family.OPENAI);
  private static final LlmApi CHAT = LlmApi.OPENAI_CHAT_COMPLETIONS;

  /** A lower-bound count of 10 prompt tokens, so only the model's limits bound the prompt. */
  private static PromptCount lowerBound(int maxOutput) {
    return new PromptCount(10, Tokenizer.O200K_BASE, false, maxOutput, "max_tokens", -1);
  }

  private static Reason check(LlmApi api, PromptCount count, ModelSpec spec, ProviderUsage usage) {
    return UsageBounds.of(api, count, spec).check(usage);
  }

  private static ProviderUsage usage(long prompt, long completion) {
    return new ProviderUsage(prompt, completion, -1, -1, -1, -1);
  }

  @Test
  void aReportAboveTenMillionTokensIsNeverBelievedWhateverTheModel() {
    assertThat(check(CHAT, lowerBound(-1), UNLISTED, usage(10_000_000, 0))).isNull();
    assertThat(check(CHAT, lowerBound(-1), UNLISTED, usage(10_000_001, 0)))
        .isEqualTo(Reason.ABOVE_CEILING);
    assertThat(check(CHAT, lowerBound(-1), UNLISTED, usage(5, Long.MAX_VALUE)))
        .isEqualTo(Reason.ABOVE_CEILING);
  }

  @Test
  void thePromptMustFitTheModelsContextWindow() {
    assertThat(check(CHAT, lowerBound(-1), GPT_4O, usage(128_000, 0))).isNull();
    assertThat(check(CHAT, lowerBound(-1), GPT_4O, usage(128_001, 0)))
        .isEqualTo(Reason.PROMPT_ABOVE_CONTEXT_WINDOW);
  }

  @Test
  void anExactCountBoundsThePromptAtTwiceItPlusSlack() {
    PromptCount exact = new PromptCount(100, Tokenizer.O200K_BASE, true, -1, null, -1);
    assertThat(check(CHAT, exact, GPT_4O, usage(2 * 100 + 1024, 0))).isNull();
    assertThat(check(CHAT, exact, GPT_4O, usage(2 * 100 + 1025, 0)))
        .isEqualTo(Reason.PROMPT_ABOVE_COUNT);
    assertThat(check(CHAT, lowerBound(-1), GPT_4O, usage(100_000, 0)))
        .as("a lower bound (images, files, server-side state) does not bound the prompt")
        .isNull();
  }

  @Test
  void theCompletionMustFitTheOutputBudgetTimesTheAnswersAskedFor() {
    assertThat(check(CHAT, lowerBound(50), GPT_4O, usage(10, 50))).isNull();
    assertThat(check(CHAT, lowerBound(50), GPT_4O, usage(10, 51)))
        .isEqualTo(Reason.COMPLETION_ABOVE_OUTPUT_LIMIT);
    PromptCount threeAnswers =
        new PromptCount(10, Tokenizer.O200K_BASE, false, 50, "max_tokens", -1, 3);
    assertThat(check(CHAT, threeAnswers, GPT_4O, usage(10, 150))).isNull();
    assertThat(check(CHAT, threeAnswers, GPT_4O, usage(10, 151)))
        .isEqualTo(Reason.COMPLETION_ABOVE_OUTPUT_LIMIT);
  }

  @Test
  void withoutAnOutputBudgetTheModelsMaximumOutputBoundsTheCompletion() {
    assertThat(check(CHAT, lowerBound(-1), GPT_4O, usage(10, 16_384))).isNull();
    assertThat(check(CHAT, lowerBound(-1), GPT_4O, usage(10, 16_385)))
        .isEqualTo(Reason.COMPLETION_ABOVE_OUTPUT_LIMIT);
    assertThat(check(CHAT, lowerBound(-1), UNLISTED, usage(10, 1_000_000)))
        .as("an unlisted model without a budget: only the ceiling")
        .isNull();
  }

  @Test
  void embeddingsProduceNoCompletion() {
    PromptCount input = new PromptCount(10, Tokenizer.CL100K_BASE, true, -1, null, 10);
    ModelSpec small = CATALOG.resolve("text-embedding-3-small", LlmApi.Family.OPENAI);
    assertThat(check(LlmApi.OPENAI_EMBEDDINGS, input, small, usage(10, 0))).isNull();
    assertThat(check(LlmApi.OPENAI_EMBEDDINGS, input, small, usage(10, 1)))
        .isEqualTo(Reason.COMPLETION_ABOVE_OUTPUT_LIMIT);
  }

  @Test
  void cacheFiguresMustFitInThePrompt() {
    PromptCount count = lowerBound(100);
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(20, 5, 25, 20, -1, -1)))
        .isNull();
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(20, 5, 25, 21, -1, -1)))
        .as("cached_tokens larger than the prompt")
        .isEqualTo(Reason.CACHE_ABOVE_PROMPT);
    LlmApi messages = LlmApi.ANTHROPIC_MESSAGES;
    assertThat(check(messages, count, SONNET, new ProviderUsage(30, 5, 35, 10, 20, -1, 20)))
        .isNull();
    assertThat(check(messages, count, SONNET, new ProviderUsage(30, 5, 35, 10, 20, -1, 21)))
        .as("one-hour cache writes above all cache writes")
        .isEqualTo(Reason.CACHE_ABOVE_PROMPT);
    assertThat(check(messages, count, SONNET, new ProviderUsage(30, 5, 35, 11, 20, -1)))
        .isEqualTo(Reason.CACHE_ABOVE_PROMPT);
  }

  @Test
  void reasoningIsPartOfTheCompletion() {
    assertThat(check(CHAT, lowerBound(100), GPT_4O, new ProviderUsage(10, 40, 50, -1, -1, 40)))
        .isNull();
    assertThat(check(CHAT, lowerBound(100), GPT_4O, new ProviderUsage(10, 40, 50, -1, -1, 41)))
        .isEqualTo(Reason.REASONING_ABOVE_COMPLETION);
  }

  @Test
  void aReportedTotalIsThePartsPlusAtMostTheReasoning() {
    PromptCount count = lowerBound(100);
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(10, 40, 50, -1, -1, -1)))
        .isNull();
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(10, 40, 70, -1, -1, 20)))
        .as("a server that counts reasoning outside the completion")
        .isNull();
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(10, 40, 49, -1, -1, -1)))
        .isEqualTo(Reason.TOTAL_NOT_SUM_OF_PARTS);
    assertThat(check(CHAT, count, GPT_4O, new ProviderUsage(10, 40, 71, -1, -1, 20)))
        .isEqualTo(Reason.TOTAL_NOT_SUM_OF_PARTS);
  }

  @Test
  void theAnswersOfALegacyCompletionsBatchMultiplyByItsPrompts() {
    PromptCount count = PromptCounter.count(
        LlmApi.OPENAI_COMPLETIONS,
        "{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":[\"a\",\"b\"],\"n\":3,\"max_tokens\":10}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8),
        UNLISTED);
    assertThat(count.outputChoices()).isEqualTo(6);
    assertThat(check(LlmApi.OPENAI_COMPLETIONS, count, UNLISTED, usage(2, 60))).isNull();
    assertThat(check(LlmApi.OPENAI_COMPLETIONS, count, UNLISTED, usage(2, 61)))
        .isEqualTo(Reason.COMPLETION_ABOVE_OUTPUT_LIMIT);
  }
}
