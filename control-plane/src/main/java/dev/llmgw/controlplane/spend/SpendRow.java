package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import org.jspecify.annotations.Nullable;

/**
 * The totals of one group of a {@link SpendQuery}. A dimension the query does not group by is null
 * here: the row covers every value of it.
 *
 * @param route the route the policy chose
 * @param provider the provider that served the exchanges
 */
public record SpendRow(
    @Nullable LocalDate day,
    @Nullable String tenant,
    @Nullable String apiKeyId,
    @Nullable String route,
    @Nullable String provider,
    @Nullable String model,
    SpendTotals totals) {

  public SpendRow {
    requireNonNull(totals, "totals");
  }

  SpendRow(@Nullable LocalDate day, Attribution a, SpendTotals totals) {
    this(day, a.tenant(), a.apiKeyId(), a.route(), a.provider(), a.model(), totals);
  }

  /** The value of {@code dimension} in this row (null for one the query does not group by). */
  public @Nullable Object value(SpendQuery.Dimension dimension) {
    return dimension == SpendQuery.Dimension.DAY ? day : attribution().value(dimension);
  }

  Attribution attribution() {
    return new Attribution(tenant, apiKeyId, route, provider, model);
  }

  /**
   * Whom spend is attributed to, besides its day: what the ledger keeps totals by. {@code ""} is an
   * attribute the record did not have; null (in a query's row) one it was not grouped by.
   */
  record Attribution(
      @Nullable String tenant,
      @Nullable String apiKeyId,
      @Nullable String route,
      @Nullable String provider,
      @Nullable String model) {

    static Attribution of(Spend s) {
      return new Attribution(s.tenant(), s.apiKeyId(), s.route(), s.provider(), s.model());
    }

    @Nullable
    String value(SpendQuery.Dimension dimension) {
      return switch (dimension) {
        case TENANT -> tenant;
        case API_KEY_ID -> apiKeyId;
        case ROUTE -> route;
        case PROVIDER -> provider;
        case MODEL -> model;
        case DAY -> throw new IllegalArgumentException("day (expected: a dimension besides day)");
      };
    }

    /** This attribution with every dimension not in {@code kept} set to null. */
    Attribution only(java.util.Set<SpendQuery.Dimension> kept) {
      return new Attribution(
          kept.contains(SpendQuery.Dimension.TENANT) ? tenant : null,
          kept.contains(SpendQuery.Dimension.API_KEY_ID) ? apiKeyId : null,
          kept.contains(SpendQuery.Dimension.ROUTE) ? route : null,
          kept.contains(SpendQuery.Dimension.PROVIDER) ? provider : null,
          kept.contains(SpendQuery.Dimension.MODEL) ? model : null);
    }
  }
}
