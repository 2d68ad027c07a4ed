package dev.llmgw.extproc.limits;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * A budget's calendar period in UTC. Calendar periods (not rolling ones) because that is how
 * invoices and finance teams count, and because one counter per period needs no history: a budget
 * is reset by starting a new counter, and old counters simply expire.
 */
public enum Period {
  /** From 00:00 UTC to the next 00:00 UTC. */
  DAILY("daily") {
    @Override
    LocalDate startDate(LocalDate day) {
      return day;
    }

    @Override
    LocalDate nextStartDate(LocalDate start) {
      return start.plusDays(1);
    }
  },
  /** From the 1st of the month 00:00 UTC to the 1st of the next month 00:00 UTC. */
  MONTHLY("monthly") {
    @Override
    LocalDate startDate(LocalDate day) {
      return day.withDayOfMonth(1);
    }

    @Override
    LocalDate nextStartDate(LocalDate start) {
      return start.plusMonths(1);
    }
  };

  private final String configName;

  Period(String configName) {
    this.configName = configName;
  }

  /** The name in configuration and store keys: {@code daily} or {@code monthly}. */
  public String configName() {
    return configName;
  }

  /** The first day (UTC) of the period that contains {@code now}. */
  LocalDate startDate(Instant now) {
    return startDate(LocalDate.ofInstant(now, ZoneOffset.UTC));
  }

  /** The instant the period starting on {@code start} ends, which is when the next one starts. */
  Instant end(LocalDate start) {
    return nextStartDate(start).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /** The instant the period starting on {@code start} starts. */
  static Instant start(LocalDate start) {
    return start.atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  abstract LocalDate startDate(LocalDate day);

  abstract LocalDate nextStartDate(LocalDate start);

  static Period parse(String field, Object value) {
    if (value instanceof String s) {
      for (Period period : values()) {
        if (period.configName.equals(s.toLowerCase(Locale.ROOT))) {
          return period;
        }
      }
    }
    throw new IllegalArgumentException(field + ": " + value + " (expected: daily or monthly)");
  }
}
