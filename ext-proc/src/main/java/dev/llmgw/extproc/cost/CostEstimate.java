package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;

/**
 * What an exchange is expected to cost before it is forwarded: the counted prompt plus the output the
 * request allows (or a default), at the catalog's rates. Budgets and rate limits reserve this much
 * and settle with the actual cost afterwards. Attached to the exchange's context by {@link CostTagging}.
 *
 * @param tokens prompt tokens plus expected output tokens
 * @param usd the expected cost; zero when the model has no price
 * @param priced whether the catalog priced the model
 */
public record CostEstimate(long tokens, BigDecimal usd, boolean priced) {
  public CostEstimate {
    requireNonNull(usd, "usd");
  }
}
