package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import org.junit.jupiter.api.Test;

class ContextLimitsTest {

  private static final ModelSpec GPT_4 =
      ModelCatalog.builtIn().resolve("gpt-4", LlmApi.Family.OPENAI);
  private static final ModelSpec SONNET =
      ModelCatalog.builtIn().resolve("claude-opus-4-1", LlmApi.Family.ANTHROPIC);
  private static final LlmApi CHAT = LlmApi.OPENAI_CHAT_COMPLETIONS;

  @Test
  void promptPlusOutputExactlyAtTheWindowFitsAndOneMoreTokenDoesNot() {
    assertThat(check(CHAT, GPT_4, exact(6192, 2000))).isNull();

    ApiError error = check(CHAT, GPT_4, exact(6193, 2000));

    assertThat(error.status()).isEqualTo(400);
    assertThat(error.code()).isEqualTo("context_length_exceeded");
    assertThat(error.param()).isEqualTo("messages");
    assertThat(error.message())
        .isEqualTo(
            "gpt-4's maximum context length is 8192 tokens, but this request needs 8193: "
                + "6193 prompt tokens (counted by the gateway with cl100k_base) + 2000 max_tokens. Reduce the prompt or max_tokens.");
  }

  @Test
  void withoutAnOutputBudgetOnlyThePromptMustFit() {
    assertThat(check(CHAT, GPT_4, exact(8192, -1))).isNull();
    assertThat(check(CHAT, GPT_4, exact(8193, -1)).message())
        .contains("needs 8193: 8193 prompt tokens")
        .endsWith("Reduce the prompt.");
  }

  @Test
  void outputBudgetAboveTheModelsMaximumIsRefusedNamingTheField() {
    ModelSpec gpt4o = ModelCatalog.builtIn().resolve("gpt-4o", LlmApi.Family.OPENAI);
    PromptCount count =
        new PromptCount(10, Tokenizer.O200K_BASE, true, 20000, "max_completion_tokens", -1);

    ApiError error = check(CHAT, gpt4o, count);

    assertThat(error.code()).isEqualTo("max_tokens_too_large");
    assertThat(error.param()).isEqualTo("max_completion_tokens");
    assertThat(error.message())
        .isEqualTo(
            "max_completion_tokens is 20000, but gpt-4o produces at most 16384 output tokens "
                + "(expected: max_completion_tokens <= 16384)");
  }

  @Test
  void lowerBoundsSayAtLeast() {
    PromptCount lowerBound =
        new PromptCount(8000, Tokenizer.CL100K_BASE, false, 500, "max_tokens", -1);

    assertThat(check(CHAT, GPT_4, lowerBound).message()).contains("at least 8000 prompt tokens");
  }

  @Test
  void estimatesAreRefusedOnlyWhenTheyCannotFitEvenAfterTheErrorMargin() {
    // 200000-token window; max_tokens 32000. Estimate 200000 → 150000 certain: fits.
    assertThat(check(LlmApi.ANTHROPIC_MESSAGES, SONNET, estimate(200_000, 32_000)))
        .isNull();
    // Estimate 240000 → 180000 certain + 32000 > 200000: refused.
    ApiError error = check(LlmApi.ANTHROPIC_MESSAGES, SONNET, estimate(240_000, 32_000));
    assertThat(error.message())
        .contains(
            "at least 180000 prompt tokens (estimated at 240000",
            "25% is taken off before refusing",
            "+ 32000 max_tokens");
  }

  @Test
  void unlistedModelsAreNeverRefused() {
    ModelSpec unknown = ModelCatalog.builtIn().resolve("my-own-llm", LlmApi.Family.OPENAI);

    assertThat(check(CHAT, unknown, exact(10_000_000, 10_000_000))).isNull();
  }

  @Test
  void embeddingsAreCheckedPerInput() {
    ModelSpec embed =
        ModelCatalog.builtIn().resolve("text-embedding-3-small", LlmApi.Family.OPENAI);

    assertThat(check(
            LlmApi.OPENAI_EMBEDDINGS,
            embed,
            new PromptCount(20_000, Tokenizer.CL100K_BASE, true, -1, null, 8192)))
        .isNull();
    ApiError error = check(
        LlmApi.OPENAI_EMBEDDINGS,
        embed,
        new PromptCount(9000, Tokenizer.CL100K_BASE, true, -1, null, 8193));
    assertThat(error.param()).isEqualTo("input");
    assertThat(error.message()).contains("at most 8192 tokens per input", "8193 tokens");
  }

  private static ApiError check(LlmApi api, ModelSpec spec, PromptCount count) {
    return ContextLimits.check(api, spec, count, 0.25);
  }

  private static PromptCount exact(int tokens, int maxOutput) {
    return new PromptCount(
        tokens, Tokenizer.CL100K_BASE, true, maxOutput, maxOutput < 0 ? null : "max_tokens", -1);
  }

  private static PromptCount estimate(int tokens, int maxOutput) {
    return new PromptCount(tokens, Tokenizer.ESTIMATE, false, maxOutput, "max_tokens", -1);
  }
}
