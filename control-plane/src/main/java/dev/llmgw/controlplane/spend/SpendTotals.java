package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;

/**
 * Sums over a set of spend records. Costs are exact: they are added as {@link BigDecimal}s and
 * never rounded.
 *
 * @param requests how many records
 * @param costUsd total cost, estimated part included
 * @param estimatedRequests how many of the records had an estimated cost
 * @param estimatedCostUsd the part of {@code costUsd} that is estimated
 */
public record SpendTotals(
    long requests,
    long inputTokens,
    long cachedInputTokens,
    long cacheWriteTokens,
    long outputTokens,
    long reasoningTokens,
    BigDecimal costUsd,
    long estimatedRequests,
    BigDecimal estimatedCostUsd) {

  public static final SpendTotals ZERO =
      new SpendTotals(0, 0, 0, 0, 0, 0, BigDecimal.ZERO, 0, BigDecimal.ZERO);

  public SpendTotals {
    requireNonNull(costUsd, "costUsd");
    requireNonNull(estimatedCostUsd, "estimatedCostUsd");
  }

  /** The totals of one record. */
  public static SpendTotals of(Spend s) {
    return new SpendTotals(
        1,
        s.inputTokens(),
        s.cachedInputTokens(),
        s.cacheWriteTokens(),
        s.outputTokens(),
        s.reasoningTokens(),
        s.costUsd(),
        s.estimated() ? 1 : 0,
        s.estimated() ? s.costUsd() : BigDecimal.ZERO);
  }

  public SpendTotals plus(SpendTotals o) {
    return new SpendTotals(
        requests + o.requests,
        inputTokens + o.inputTokens,
        cachedInputTokens + o.cachedInputTokens,
        cacheWriteTokens + o.cacheWriteTokens,
        outputTokens + o.outputTokens,
        reasoningTokens + o.reasoningTokens,
        costUsd.add(o.costUsd),
        estimatedRequests + o.estimatedRequests,
        estimatedCostUsd.add(o.estimatedCostUsd));
  }
}
