package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * The gateway's count of one request's prompt, made on the request path before forwarding.
 *
 * @param tokens prompt tokens, including the chat format's overhead and tool definitions
 * @param tokenizer what counted them
 * @param exact whether the count is expected to equal the provider's {@code prompt_tokens}: the
 *     model's own public tokenizer counted every part of the prompt by a published rule. False for
 *     estimates and whenever part of the prompt (images, tool-call history, server-side state, ...)
 *     has no published rule; such counts leave those parts out, so they are lower bounds
 * @param maxOutputTokens output tokens the request asks for (or the API's default), -1 when none
 * @param maxOutputField the request field {@code maxOutputTokens} came from, or null
 * @param largestInputTokens for embeddings, the tokens of the largest single input; -1 otherwise
 * @param outputChoices how many answers the provider generates, each up to {@code maxOutputTokens}:
 *     OpenAI's {@code n} (and the legacy completions' {@code best_of}), else 1
 */
public record PromptCount(
    int tokens,
    Tokenizer tokenizer,
    boolean exact,
    int maxOutputTokens,
    @Nullable String maxOutputField,
    int largestInputTokens,
    int outputChoices) {

  public PromptCount {
    requireNonNull(tokenizer, "tokenizer");
    if (tokens < 0) {
      throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
    }
    if (outputChoices < 1) {
      throw new IllegalArgumentException("outputChoices: " + outputChoices + " (expected: >= 1)");
    }
  }

  /** A count of a request that asks for one answer. */
  public PromptCount(
      int tokens,
      Tokenizer tokenizer,
      boolean exact,
      int maxOutputTokens,
      @Nullable String maxOutputField,
      int largestInputTokens) {
    this(tokens, tokenizer, exact, maxOutputTokens, maxOutputField, largestInputTokens, 1);
  }
}
