package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A spend limit in USD for one scope and calendar period. With {@code id} {@value #EVERY} the rule
 * gives every API key (or tenant) its own budget of that size; a rule naming one id replaces the
 * {@value #EVERY} rule for that id.
 *
 * @param scope whom it limits
 * @param id the API key fingerprint or tenant name, or {@value #EVERY}
 * @param period the calendar period (UTC) the limit is per
 * @param limitUsd the most that may be spent in one period; whole micro-dollars
 * @param alertThresholds fractions of the limit (e.g. 0.5, 0.8, 0.9) whose crossing by settled spend
 *     is reported once per period; kept sorted
 * @param downgradeTo nullable; when set, a request that does not fit is admitted with this (cheaper)
 *     model instead of being refused, and its spend is still counted
 */
public record BudgetRule(
    ScopeKind scope,
    String id,
    Period period,
    BigDecimal limitUsd,
    List<BigDecimal> alertThresholds,
    @Nullable String downgradeTo) {

  /** The id that makes a rule apply to every API key or tenant, each with its own budget. */
  public static final String EVERY = "*";

  public BudgetRule {
    requireNonNull(scope, "scope");
    requireNonNull(period, "period");
    id = LimitsConfig.requireId(id);
    requireNonNull(limitUsd, "limit_usd");
    if (limitUsd.signum() < 0
        || limitUsd.compareTo(Usd.MAX) > 0
        || limitUsd.stripTrailingZeros().scale() > Usd.MICROS_SCALE) {
      throw new IllegalArgumentException(
          "limit_usd: " + limitUsd.toPlainString() + " (expected: a dollar amount >= 0 and <= "
              + Usd.MAX + " with at most 6 decimal places)");
    }
    requireNonNull(alertThresholds, "alert_thresholds");
    List<BigDecimal> sorted = new ArrayList<>(alertThresholds.size());
    for (BigDecimal t : alertThresholds) {
      requireNonNull(t, "alert_thresholds");
      if (t.signum() <= 0 || t.compareTo(BigDecimal.TEN) > 0) {
        throw new IllegalArgumentException("alert_thresholds: " + t.toPlainString()
            + " (expected: fractions of the limit > 0 and <= 10, e.g. 0.8)");
      }
      if (sorted.stream().anyMatch(s -> s.compareTo(t) == 0)) {
        throw new IllegalArgumentException("alert_thresholds: " + t.toPlainString()
            + " appears twice (expected: distinct values)");
      }
      sorted.add(t);
    }
    sorted.sort(null);
    alertThresholds = List.copyOf(sorted);
    if (downgradeTo != null && downgradeTo.isBlank()) {
      throw new IllegalArgumentException(
          "downgrade_to: '" + downgradeTo + "' (expected: a model name, or no downgrade_to)");
    }
  }

  /** A hard budget without alerts. */
  public static BudgetRule of(ScopeKind scope, String id, Period period, BigDecimal limitUsd) {
    return new BudgetRule(scope, id, period, limitUsd, List.of(), null);
  }
}
