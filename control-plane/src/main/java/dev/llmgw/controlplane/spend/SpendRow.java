package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import org.jspecify.annotations.Nullable;

/**
 * The totals of one group of a {@link SpendQuery}. A dimension the query does not group by is null
 * here: the row covers every value of it.
 */
public record SpendRow(
    @Nullable LocalDate day,
    @Nullable String tenant,
    @Nullable String apiKeyId,
    @Nullable String model,
    SpendTotals totals) {

  public SpendRow {
    requireNonNull(totals, "totals");
  }
}
