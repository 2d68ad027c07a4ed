package dev.llmgw.extproc.limits;

import java.util.Locale;

/** Whom a limit applies to: one API key (by its fingerprint), one tenant, or one route (all its traffic). */
public enum ScopeKind {
  API_KEY("api_key", "API key "),
  TENANT("tenant", "tenant "),
  ROUTE("route", "route ");

  private final String configName;
  private final String label;

  ScopeKind(String configName, String label) {
    this.configName = configName;
    this.label = label;
  }

  /** The name in configuration, metric tags and store keys: {@code api_key}, {@code tenant} or {@code route}. */
  public String configName() {
    return configName;
  }

  /** How messages and logs name a scope, e.g. {@code API key key_1a2b3c4d5e6f} or {@code tenant 'acme'}. */
  String describe(String id) {
    return this == API_KEY ? label + id : label + "'" + id + "'";
  }

  static ScopeKind parse(String field, Object value) {
    if (value instanceof String s) {
      for (ScopeKind kind : values()) {
        if (kind.configName.equals(s.toLowerCase(Locale.ROOT))) {
          return kind;
        }
      }
    }
    throw new IllegalArgumentException(
        field + ": " + value + " (expected: api_key, tenant or route)");
  }
}
