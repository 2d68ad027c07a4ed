package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which spend to add up, and by what. Days are UTC and both ends are included; a filter matches
 * exactly (so {@code ""} finds records without that attribute), a dimension without one matches
 * everything.
 *
 * @param filters the one value each filtered dimension must have; never {@link Dimension#DAY}
 *     (the range is {@code from} and {@code to})
 * @param groupBy the dimensions each row stands for; empty gives one row with the totals of the range
 */
public record SpendQuery(
    LocalDate from, LocalDate to, Map<Dimension, String> filters, List<Dimension> groupBy) {

  /** Widest range one query may span, in days. */
  public static final int MAX_DAYS = 366;

  /**
   * What a row can be grouped and filtered by. {@code ROUTE} is the route the policy chose,
   * {@code PROVIDER} the provider that served the exchange: on a weighted or failover route one
   * route has several providers.
   */
  public enum Dimension {
    DAY,
    TENANT,
    API_KEY_ID,
    ROUTE,
    PROVIDER,
    MODEL;

    /** The name in the REST API: {@code day}, {@code tenant}, {@code api_key_id}, {@code route}, ... */
    public String apiName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public SpendQuery {
    requireNonNull(from, "from");
    requireNonNull(to, "to");
    filters = Map.copyOf(filters);
    groupBy = List.copyOf(groupBy);
    if (to.isBefore(from)) {
      throw new IllegalArgumentException(
          "to: " + to + " (expected: on or after from, " + from + ")");
    }
    if (days(from, to) > MAX_DAYS) {
      throw new IllegalArgumentException("to: " + from + ".." + to + " spans " + days(from, to)
          + " days (expected: at most " + MAX_DAYS + ")");
    }
    if (filters.containsKey(Dimension.DAY)) {
      throw new IllegalArgumentException(
          "filters: day (expected: a range of days, given as from and to)");
    }
    if (new HashSet<>(groupBy).size() != groupBy.size()) {
      throw new IllegalArgumentException(
          "groupBy: " + groupBy + " (expected: each dimension at most once)");
    }
  }

  /** Every dimension, in the order rows are sorted by. */
  public static List<Dimension> allDimensions() {
    return List.of(Dimension.values());
  }

  /** Days from {@code from} to {@code to}, both included. */
  public static long days(LocalDate from, LocalDate to) {
    return ChronoUnit.DAYS.between(from, to) + 1;
  }

  boolean matches(SpendRow.Attribution a) {
    for (Map.Entry<Dimension, String> f : filters.entrySet()) {
      if (!f.getValue().equals(a.value(f.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
