package dev.llmgw.extproc.limits;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Dollar amounts as whole micro-dollars (1 USD = 1,000,000), the unit counters are kept in. Integers
 * add exactly in every store (Redis' HINCRBY, Lua's doubles below 2^53), where decimals or floats
 * would drift.
 */
final class Usd {

  static final int MICROS_SCALE = 6;
  /** Largest limit or single amount: far below 2^53 micro-dollars, where Lua's numbers stop being exact. */
  static final BigDecimal MAX = BigDecimal.valueOf(1_000_000_000L);

  private Usd() {}

  /** A cost rounded up to the next micro-dollar, so rounding never under-records spend. */
  static long ceilMicros(BigDecimal usd) {
    return usd.movePointRight(MICROS_SCALE).setScale(0, RoundingMode.CEILING).longValueExact();
  }

  /** A limit or threshold that must be a whole number of micro-dollars. */
  static long exactMicros(BigDecimal usd) {
    return usd.movePointRight(MICROS_SCALE).longValueExact();
  }

  static BigDecimal fromMicros(long micros) {
    return BigDecimal.valueOf(micros, MICROS_SCALE);
  }

  /** For messages: {@code $12.50}, {@code $0.000001}; at least two decimals, at most six. */
  static String format(long micros) {
    BigDecimal usd = fromMicros(micros).stripTrailingZeros();
    return "$"
        + (usd.scale() < 2 ? usd.setScale(2, RoundingMode.UNNECESSARY) : usd).toPlainString();
  }

  /** Checks an amount a caller passes in: not null, not negative, not absurd. */
  static BigDecimal requireAmount(String field, BigDecimal usd) {
    if (usd == null) {
      throw new NullPointerException(field);
    }
    if (usd.signum() < 0 || usd.compareTo(MAX) > 0) {
      throw new IllegalArgumentException(
          field + ": " + usd.toPlainString() + " (expected: >= 0 and <= " + MAX + ")");
    }
    return usd;
  }
}
