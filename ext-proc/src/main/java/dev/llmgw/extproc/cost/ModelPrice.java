package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.LocalDate;
import org.jspecify.annotations.Nullable;

/**
 * What one model costs, in US dollars per million tokens, with where the figures come from. Rates are
 * exact decimals (parsed from their text, never through a {@code double}) with at most
 * {@value #MAX_DECIMALS} decimal places, so every cost computed from them is exact.
 *
 * <p>Optional rates are null when the catalog does not give one; {@link CostCalculator} then bills
 * cached input and cache writes at the input rate, one-hour cache writes at the cache-write rate, and
 * reasoning at the output rate, and refuses to price output tokens of a model without an output rate.
 *
 * @param model the catalog name
 * @param input uncached input tokens
 * @param cachedInput input tokens read from the provider's prompt cache, or null
 * @param cacheWrite input tokens written to the prompt cache (Anthropic's 5-minute write), or null
 * @param cacheWrite1h input tokens written to the prompt cache with a one-hour lifetime (Anthropic's
 *     1-hour write, reported as {@code usage.cache_creation.ephemeral_1h_input_tokens}), or null
 * @param output output tokens other than reasoning, or null for a model without output (embeddings)
 * @param reasoning hidden reasoning / thinking tokens, or null
 * @param longContext rates for requests above a prompt size, or null
 * @param source where the prices were read, such as the provider's pricing page
 * @param asOf the date they were read there
 * @param note caveats ("" when none), above all when a figure is not confirmed on the provider's page
 */
public record ModelPrice(
    String model,
    BigDecimal input,
    @Nullable BigDecimal cachedInput,
    @Nullable BigDecimal cacheWrite,
    @Nullable BigDecimal cacheWrite1h,
    @Nullable BigDecimal output,
    @Nullable BigDecimal reasoning,
    @Nullable LongContext longContext,
    String source,
    LocalDate asOf,
    String note) {

  /** Decimal places a rate may have: $0.000001 per million tokens, far below any published price. */
  public static final int MAX_DECIMALS = 6;

  public ModelPrice {
    requireNonNull(model, "model");
    requireNonNull(source, "source");
    requireNonNull(asOf, "asOf");
    requireNonNull(note, "note");
    if (model.isBlank()) {
      throw new IllegalArgumentException("model: '' (expected: a model name such as 'gpt-4o')");
    }
    if (source.isBlank()) {
      throw new IllegalArgumentException(
          model
              + ".source: '' (expected: where the prices come from, such as the provider's pricing page URL)");
    }
    checkRate(requireNonNull(input, model + ".input"), model + ".input");
    checkOptionalRate(cachedInput, model + ".cached_input");
    checkOptionalRate(cacheWrite, model + ".cache_write");
    checkOptionalRate(cacheWrite1h, model + ".cache_write_1h");
    checkOptionalRate(output, model + ".output");
    checkOptionalRate(reasoning, model + ".reasoning");
  }

  /**
   * Rates for every token of a request whose prompt is above {@code abovePromptTokens}, as Anthropic
   * bills Claude Sonnet 4 / 4.5 beyond 200K input tokens. The prompt counts cached and cache-written
   * tokens. Null rates follow the same rules as the model's own.
   */
  public record LongContext(
      int abovePromptTokens,
      BigDecimal input,
      @Nullable BigDecimal cachedInput,
      @Nullable BigDecimal cacheWrite,
      @Nullable BigDecimal cacheWrite1h,
      @Nullable BigDecimal output,
      @Nullable BigDecimal reasoning) {

    public LongContext {
      if (abovePromptTokens <= 0) {
        throw new IllegalArgumentException(
            "long_context.above_prompt_tokens: " + abovePromptTokens + " (expected: > 0)");
      }
      checkRate(requireNonNull(input, "long_context.input"), "long_context.input");
      checkOptionalRate(cachedInput, "long_context.cached_input");
      checkOptionalRate(cacheWrite, "long_context.cache_write");
      checkOptionalRate(cacheWrite1h, "long_context.cache_write_1h");
      checkOptionalRate(output, "long_context.output");
      checkOptionalRate(reasoning, "long_context.reasoning");
    }
  }

  private static void checkOptionalRate(@Nullable BigDecimal rate, String field) {
    if (rate != null) {
      checkRate(rate, field);
    }
  }

  static void checkRate(BigDecimal rate, String field) {
    if (rate.signum() < 0) {
      throw new IllegalArgumentException(
          field + ": " + rate.toPlainString() + " (expected: >= 0 US dollars per million tokens)");
    }
    if (rate.stripTrailingZeros().scale() > MAX_DECIMALS) {
      throw new IllegalArgumentException(field + ": " + rate.toPlainString()
          + " (expected: at most " + MAX_DECIMALS + " decimal places)");
    }
  }
}
