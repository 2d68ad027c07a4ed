package dev.llmgw.extproc.limits;

import java.util.Locale;

/** What admission does when the {@link LimitStore} cannot be reached. */
public enum StoreFailureMode {
  /** Admit without reserving; the actual usage is still recorded at settle if the store is back. */
  FAIL_OPEN("fail_open"),
  /** Refuse with {@link Rejection.Kind#LIMITS_UNAVAILABLE}. */
  FAIL_CLOSED("fail_closed");

  private final String configName;

  StoreFailureMode(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  static StoreFailureMode parse(String field, Object value) {
    if (value instanceof String s) {
      for (StoreFailureMode mode : values()) {
        if (mode.configName.equals(s.toLowerCase(Locale.ROOT))) {
          return mode;
        }
      }
    }
    throw new IllegalArgumentException(
        field + ": " + value + " (expected: fail_open or fail_closed)");
  }
}
