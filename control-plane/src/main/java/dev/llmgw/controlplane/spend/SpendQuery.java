package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * Which spend to add up, and by what. Days are UTC and both ends are included; a null filter
 * matches everything, a non-null one matches exactly (so {@code ""} finds records without a tenant).
 *
 * @param groupBy the dimensions each row stands for; empty gives one row with the totals of the range
 */
public record SpendQuery(
    LocalDate from,
    LocalDate to,
    String tenant,
    String apiKeyId,
    String model,
    List<Dimension> groupBy) {

  /** Widest range one query may span, in days. */
  public static final int MAX_DAYS = 366;

  /** What a row can be grouped by. */
  public enum Dimension {
    DAY,
    TENANT,
    API_KEY_ID,
    MODEL;

    /** The name in the REST API: {@code day}, {@code tenant}, {@code api_key_id}, {@code model}. */
    public String apiName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public SpendQuery {
    requireNonNull(from, "from");
    requireNonNull(to, "to");
    groupBy = List.copyOf(groupBy);
    if (to.isBefore(from)) {
      throw new IllegalArgumentException(
          "to: " + to + " (expected: on or after from, " + from + ")");
    }
    if (days(from, to) > MAX_DAYS) {
      throw new IllegalArgumentException("to: " + from + ".." + to + " spans " + days(from, to)
          + " days (expected: at most " + MAX_DAYS + ")");
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

  boolean matches(String tenant, String apiKeyId, String model) {
    return (this.tenant == null || this.tenant.equals(tenant))
        && (this.apiKeyId == null || this.apiKeyId.equals(apiKeyId))
        && (this.model == null || this.model.equals(model));
  }
}
