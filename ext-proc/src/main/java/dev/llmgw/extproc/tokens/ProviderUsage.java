package dev.llmgw.extproc.tokens;

/**
 * Usage as the provider reported it, normalized across APIs. Every field is -1 when the provider
 * did not report it. Figures are {@code long}: a provider may claim any number, and sums of such
 * claims must not wrap around; a number too large for a {@code long} reads as {@link Long#MAX_VALUE}.
 * Whether the figures are believable is {@link UsageBounds}' decision.
 *
 * @param promptTokens all input tokens, cached ones included: OpenAI {@code prompt_tokens} /
 *     {@code input_tokens}; Anthropic {@code input_tokens + cache_read_input_tokens + cache_creation_input_tokens}
 * @param completionTokens output tokens, reasoning included: {@code completion_tokens} / {@code output_tokens}
 * @param totalTokens as reported, else prompt + completion
 * @param cachedTokens input tokens read from the provider's prompt cache: OpenAI
 *     {@code prompt_tokens_details.cached_tokens} / {@code input_tokens_details.cached_tokens}; Anthropic
 *     {@code cache_read_input_tokens}
 * @param cacheCreationTokens input tokens written to the cache (Anthropic {@code cache_creation_input_tokens}),
 *     of every lifetime
 * @param cacheCreation1hTokens of those, the ones written with a one-hour lifetime (Anthropic {@code
 *     cache_creation.ephemeral_1h_input_tokens}), which are billed higher than five-minute writes
 * @param reasoningTokens hidden reasoning tokens within the completion
 *     ({@code completion_tokens_details.reasoning_tokens} / {@code output_tokens_details.reasoning_tokens})
 */
public record ProviderUsage(
    long promptTokens,
    long completionTokens,
    long totalTokens,
    long cachedTokens,
    long cacheCreationTokens,
    long reasoningTokens,
    long cacheCreation1hTokens) {

  /** Usage without a split of cache writes by lifetime. */
  public ProviderUsage(
      long promptTokens,
      long completionTokens,
      long totalTokens,
      long cachedTokens,
      long cacheCreationTokens,
      long reasoningTokens) {
    this(
        promptTokens,
        completionTokens,
        totalTokens,
        cachedTokens,
        cacheCreationTokens,
        reasoningTokens,
        -1);
  }

  /** Input tokens billed at the full rate: prompt minus cache reads and cache writes; -1 when the prompt is unknown. */
  public long uncachedPromptTokens() {
    if (promptTokens < 0) {
      return -1;
    }
    return Math.max(0, promptTokens - Math.max(0, cachedTokens) - Math.max(0, cacheCreationTokens));
  }
}
