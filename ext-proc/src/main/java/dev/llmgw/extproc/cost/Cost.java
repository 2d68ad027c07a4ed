package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;

/**
 * What one exchange cost, in US dollars, computed exactly from token counts and the catalog's rates.
 * Every amount has scale {@value #USD_SCALE} (a trillionth of a dollar); no amount is ever rounded,
 * because rates have at most {@value ModelPrice#MAX_DECIMALS} decimals per million tokens.
 *
 * @param model the price catalog entry that priced it (a listed name, so a bounded metric tag)
 * @param usd the total: the sum of the breakdown's parts
 * @param estimated whether any figure was the gateway's own count or estimate rather than the
 *     provider's usage report (or was unknown): the cost is then an estimate, not the provider's bill
 * @param priceVersion the {@link PriceCatalog#version()} of the rates used
 * @param breakdown tokens and dollars by kind
 */
public record Cost(
    String model, BigDecimal usd, boolean estimated, String priceVersion, Breakdown breakdown)
    implements CostResult {

  /** Decimal places of every amount. */
  public static final int USD_SCALE = 12;

  public Cost {
    requireNonNull(model, "model");
    requireNonNull(usd, "usd");
    requireNonNull(priceVersion, "priceVersion");
    requireNonNull(breakdown, "breakdown");
    if (usd.compareTo(breakdown.totalUsd()) != 0) {
      throw new IllegalArgumentException("usd: " + usd.toPlainString()
          + " (expected: the breakdown's total " + breakdown.totalUsd().toPlainString() + ")");
    }
  }

  /**
   * Tokens and dollars by how they are billed. Input kinds add up to the prompt, output kinds to the
   * completion.
   *
   * @param inputTokens prompt tokens billed at the full input rate (neither read from nor written to the cache)
   * @param cachedInputTokens prompt tokens read from the provider's cache
   * @param cacheWriteTokens prompt tokens written to the provider's cache
   * @param outputTokens completion tokens other than reasoning
   * @param reasoningTokens hidden reasoning tokens the provider reported within the completion
   * @param inputUsd cost of {@code inputTokens}
   * @param cachedInputUsd cost of {@code cachedInputTokens}
   * @param cacheWriteUsd cost of {@code cacheWriteTokens}
   * @param outputUsd cost of {@code outputTokens}
   * @param reasoningUsd cost of {@code reasoningTokens}
   * @param longContext whether the model's long-context rates applied (the prompt was above their threshold)
   */
  public record Breakdown(
      long inputTokens,
      long cachedInputTokens,
      long cacheWriteTokens,
      long outputTokens,
      long reasoningTokens,
      BigDecimal inputUsd,
      BigDecimal cachedInputUsd,
      BigDecimal cacheWriteUsd,
      BigDecimal outputUsd,
      BigDecimal reasoningUsd,
      boolean longContext) {

    public Breakdown {
      requireNonNull(inputUsd, "inputUsd");
      requireNonNull(cachedInputUsd, "cachedInputUsd");
      requireNonNull(cacheWriteUsd, "cacheWriteUsd");
      requireNonNull(outputUsd, "outputUsd");
      requireNonNull(reasoningUsd, "reasoningUsd");
      if (inputTokens < 0
          || cachedInputTokens < 0
          || cacheWriteTokens < 0
          || outputTokens < 0
          || reasoningTokens < 0) {
        throw new IllegalArgumentException(
            "token counts: " + inputTokens + ", " + cachedInputTokens + ", " + cacheWriteTokens
                + ", " + outputTokens + ", " + reasoningTokens + " (expected: all >= 0)");
      }
    }

    /** The sum of the five parts. */
    public BigDecimal totalUsd() {
      return inputUsd.add(cachedInputUsd).add(cacheWriteUsd).add(outputUsd).add(reasoningUsd);
    }
  }
}
