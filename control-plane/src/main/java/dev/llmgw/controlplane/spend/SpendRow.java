package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;

/**
 * The totals of one group of a {@link SpendQuery}. A dimension the query does not group by is null
 * here: the row covers every value of it.
 */
public record SpendRow(
    LocalDate day, String tenant, String apiKeyId, String model, SpendTotals totals) {

  public SpendRow {
    requireNonNull(totals, "totals");
  }
}
