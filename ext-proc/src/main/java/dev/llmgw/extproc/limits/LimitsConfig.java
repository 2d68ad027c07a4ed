package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Budgets and rate limits, and what to do when the store is unreachable. Read from the policy's
 * snake_case shape with {@link #fromMap}, which Jackson also uses, so a policy record can hold a
 * {@code LimitsConfig} field directly:
 *
 * <pre>{@code
 * budgets:
 *   - { scope: tenant, id: acme, period: monthly, limit_usd: "500.00", alert_thresholds: [0.5, 0.8, 0.9] }
 *   - { scope: api_key, id: "*", period: daily, limit_usd: 20, downgrade_to: gpt-4o-mini }
 * rates:
 *   - { scope: api_key, id: "*", tokens_per_minute: 100000, requests_per_minute: 600 }
 * on_store_error: { budgets: fail_closed, rates: fail_open }   # the defaults
 * }</pre>
 *
 * @param budgets at most one per scope, id and period
 * @param rates at most one per scope and id
 * @param budgetStoreFailure when the store fails and a budget applies; default fail-closed, because
 *     a store outage must not turn into unbounded spend
 * @param rateStoreFailure when the store fails and only rate limits apply; default fail-open,
 *     because providers enforce their own rate limits and an outage should not stop traffic
 */
public record LimitsConfig(
    List<BudgetRule> budgets,
    List<RateRule> rates,
    StoreFailureMode budgetStoreFailure,
    StoreFailureMode rateStoreFailure) {

  /** No limits at all. */
  public static final LimitsConfig NONE = new LimitsConfig(List.of(), List.of());

  public LimitsConfig {
    budgets = List.copyOf(requireNonNull(budgets, "budgets"));
    rates = List.copyOf(requireNonNull(rates, "rates"));
    requireNonNull(budgetStoreFailure, "budgetStoreFailure");
    requireNonNull(rateStoreFailure, "rateStoreFailure");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < budgets.size(); i++) {
      BudgetRule b = budgets.get(i);
      if (!seen.add(b.scope() + "\0" + b.id() + "\0" + b.period())) {
        throw new IllegalArgumentException("budgets[" + i + "]: a second "
            + b.period().configName() + " budget for " + b.scope().configName() + " '" + b.id()
            + "' (expected: one budget per scope, id and period)");
      }
    }
    seen.clear();
    for (int i = 0; i < rates.size(); i++) {
      RateRule r = rates.get(i);
      if (!seen.add(r.scope() + "\0" + r.id())) {
        throw new IllegalArgumentException(
            "rates[" + i + "]: a second rate limit for " + r.scope().configName() + " '" + r.id()
                + "' (expected: one rate rule per scope and id; set tokens_per_minute and requests_per_minute in the same rule)");
      }
    }
  }

  /** Rules with the default failure modes: budgets fail closed, rate limits fail open. */
  public LimitsConfig(List<BudgetRule> budgets, List<RateRule> rates) {
    this(budgets, rates, StoreFailureMode.FAIL_CLOSED, StoreFailureMode.FAIL_OPEN);
  }

  /**
   * Reads the snake_case shape shown above (as YAML or JSON parsers produce it). Amounts may be
   * strings or numbers and are read exactly as written. Unknown keys are errors, so a typo never
   * silently drops a limit.
   *
   * @throws IllegalArgumentException naming the field and what was expected
   */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static LimitsConfig fromMap(Map<String, Object> map) {
    if (map == null) {
      return NONE;
    }
    requireKeys("limits", map, Set.of("budgets", "rates", "on_store_error"));
    List<BudgetRule> budgets = new ArrayList<>();
    List<?> budgetList = list("budgets", map.get("budgets"));
    for (int i = 0; i < budgetList.size(); i++) {
      budgets.add(budget("budgets[" + i + "]", budgetList.get(i)));
    }
    List<RateRule> rates = new ArrayList<>();
    List<?> rateList = list("rates", map.get("rates"));
    for (int i = 0; i < rateList.size(); i++) {
      rates.add(rate("rates[" + i + "]", rateList.get(i)));
    }
    StoreFailureMode budgetFailure = StoreFailureMode.FAIL_CLOSED;
    StoreFailureMode rateFailure = StoreFailureMode.FAIL_OPEN;
    Object onError = map.get("on_store_error");
    if (onError != null) {
      Map<String, Object> modes = object("on_store_error", onError);
      requireKeys("on_store_error", modes, Set.of("budgets", "rates"));
      if (modes.get("budgets") != null) {
        budgetFailure = StoreFailureMode.parse("on_store_error.budgets", modes.get("budgets"));
      }
      if (modes.get("rates") != null) {
        rateFailure = StoreFailureMode.parse("on_store_error.rates", modes.get("rates"));
      }
    }
    return new LimitsConfig(budgets, rates, budgetFailure, rateFailure);
  }

  private static BudgetRule budget(String where, Object value) {
    Map<String, Object> m = object(where, value);
    requireKeys(
        where, m, Set.of("scope", "id", "period", "limit_usd", "alert_thresholds", "downgrade_to"));
    ScopeKind scope = ScopeKind.parse(where + ".scope", required(where, m, "scope"));
    String id = string(where + ".id", required(where, m, "id"));
    Period period = Period.parse(where + ".period", required(where, m, "period"));
    BigDecimal limit = decimal(where + ".limit_usd", required(where, m, "limit_usd"));
    List<BigDecimal> thresholds = new ArrayList<>();
    for (Object t : list(where + ".alert_thresholds", m.get("alert_thresholds"))) {
      thresholds.add(decimal(where + ".alert_thresholds", t));
    }
    Object downgrade = m.get("downgrade_to");
    String downgradeTo = downgrade == null ? null : string(where + ".downgrade_to", downgrade);
    try {
      return new BudgetRule(scope, id, period, limit, thresholds, downgradeTo);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "." + e.getMessage(), e);
    }
  }

  private static RateRule rate(String where, Object value) {
    Map<String, Object> m = object(where, value);
    requireKeys(where, m, Set.of("scope", "id", "tokens_per_minute", "requests_per_minute"));
    ScopeKind scope = ScopeKind.parse(where + ".scope", required(where, m, "scope"));
    String id = string(where + ".id", required(where, m, "id"));
    long tokens = m.get("tokens_per_minute") == null
        ? 0
        : whole(where + ".tokens_per_minute", m.get("tokens_per_minute"));
    long requests = m.get("requests_per_minute") == null
        ? 0
        : whole(where + ".requests_per_minute", m.get("requests_per_minute"));
    try {
      return new RateRule(scope, id, tokens, requests);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "." + e.getMessage(), e);
    }
  }

  static String requireId(String id) {
    requireNonNull(id, "id");
    if (id.isBlank()) {
      throw new IllegalArgumentException("id: '" + id
          + "' (expected: an API key fingerprint, a tenant name, or \"*\" for every one)");
    }
    return id;
  }

  private static void requireKeys(String where, Map<String, Object> m, Set<String> known) {
    for (String key : m.keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(where + ": unknown field '" + key
            + "' (expected one of: " + known.stream().sorted().toList() + ")");
      }
    }
  }

  private static Object required(String where, Map<String, Object> m, String key) {
    Object value = m.get(key);
    if (value == null) {
      throw new IllegalArgumentException(where + "." + key + ": missing (expected: a value)");
    }
    return value;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(String where, Object value) {
    if (value instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (!(k instanceof String)) {
          throw new IllegalArgumentException(where + ": key " + k + " (expected: string keys)");
        }
      }
      return (Map<String, Object>) m;
    }
    throw new IllegalArgumentException(where + ": " + value + " (expected: an object)");
  }

  private static List<?> list(String where, @Nullable Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof List<?> l) {
      return l;
    }
    throw new IllegalArgumentException(where + ": " + value + " (expected: a list)");
  }

  private static String string(String where, Object value) {
    if (value instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException(where + ": " + value + " (expected: a string)");
  }

  /** Exactly as written: doubles go through their shortest decimal form (0.1 stays 0.1). */
  private static BigDecimal decimal(String where, Object value) {
    try {
      if (value instanceof BigDecimal d) {
        return d;
      }
      if (value instanceof Integer
          || value instanceof Long
          || value instanceof Short
          || value instanceof Byte) {
        return BigDecimal.valueOf(((Number) value).longValue());
      }
      if (value instanceof BigInteger i) {
        return new BigDecimal(i);
      }
      if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        if (Double.isFinite(d)) {
          return BigDecimal.valueOf(d);
        }
      }
      if (value instanceof String s) {
        return new BigDecimal(s.trim());
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException(
        where + ": " + value + " (expected: a decimal number, e.g. 12.50 or \"12.50\")");
  }

  private static long whole(String where, Object value) {
    if (value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger i && i.bitLength() < 63) {
      return i.longValue();
    }
    throw new IllegalArgumentException(where + ": " + value + " (expected: a whole number >= 0)");
  }
}
