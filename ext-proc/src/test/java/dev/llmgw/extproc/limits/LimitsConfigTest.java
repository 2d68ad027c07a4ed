package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LimitsConfigTest {

  static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory())
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .build();

  static final String DOCUMENTED = """
      budgets:
        - { scope: tenant, id: acme, period: monthly, limit_usd: "500.00", alert_thresholds: [0.5, 0.8, 0.9] }
        - { scope: api_key, id: "*", period: daily, limit_usd: 20, downgrade_to: gpt-4o-mini }
      rates:
        - { scope: api_key, id: "*", tokens_per_minute: 100000, requests_per_minute: 600 }
        - { scope: tenant, id: acme, requests_per_minute: 50 }
      on_store_error: { budgets: fail_open, rates: fail_closed }
      """;

  /** How a policy file would embed it. */
  record Policy(String version, LimitsConfig limits) {}

  @SuppressWarnings("unchecked")
  static LimitsConfig parse(String yaml) throws Exception {
    return LimitsConfig.fromMap(YAML.readValue(yaml, Map.class));
  }

  @Test
  void readsEveryFieldOfTheDocumentedShape() throws Exception {
    LimitsConfig config = parse(DOCUMENTED);

    assertThat(config.budgets())
        .containsExactly(
            new BudgetRule(
                ScopeKind.TENANT,
                "acme",
                Period.MONTHLY,
                new BigDecimal("500.00"),
                List.of(new BigDecimal("0.5"), new BigDecimal("0.8"), new BigDecimal("0.9")),
                null),
            new BudgetRule(
                ScopeKind.API_KEY,
                "*",
                Period.DAILY,
                new BigDecimal("20"),
                List.of(),
                "gpt-4o-mini"));
    assertThat(config.rates())
        .containsExactly(
            new RateRule(ScopeKind.API_KEY, "*", 100_000, 600),
            new RateRule(ScopeKind.TENANT, "acme", 0, 50));
    assertThat(config.budgetStoreFailure()).isEqualTo(StoreFailureMode.FAIL_OPEN);
    assertThat(config.rateStoreFailure()).isEqualTo(StoreFailureMode.FAIL_CLOSED);
  }

  @Test
  void jacksonReadsItAsAFieldOfAPolicy() throws Exception {
    String policy = "version: \"3\"\nlimits:\n" + DOCUMENTED.indent(2);

    Policy parsed = YAML.readValue(policy, Policy.class);

    assertThat(parsed.limits()).isEqualTo(parse(DOCUMENTED));
  }

  @Test
  void budgetsFailClosedAndRateLimitsFailOpenByDefault() throws Exception {
    LimitsConfig config =
        parse("budgets: [{ scope: tenant, id: acme, period: daily, limit_usd: 1 }]");

    assertThat(config.budgetStoreFailure()).isEqualTo(StoreFailureMode.FAIL_CLOSED);
    assertThat(config.rateStoreFailure()).isEqualTo(StoreFailureMode.FAIL_OPEN);
    assertThat(config.rates()).isEmpty();
    assertThat(LimitsConfig.fromMap(null)).isEqualTo(LimitsConfig.NONE);
  }

  @Test
  void amountsAreReadExactlyAsWritten() throws Exception {
    LimitsConfig config = parse("""
        budgets:
          - { scope: tenant, id: a, period: daily, limit_usd: 0.1, alert_thresholds: [0.3] }
          - { scope: tenant, id: b, period: daily, limit_usd: "12345678.123456" }
          - { scope: tenant, id: c, period: daily, limit_usd: 1000000000 }
        """);

    assertThat(config.budgets().get(0).limitUsd()).isEqualTo(new BigDecimal("0.1"));
    assertThat(config.budgets().get(0).alertThresholds()).containsExactly(new BigDecimal("0.3"));
    assertThat(config.budgets().get(1).limitUsd()).isEqualTo(new BigDecimal("12345678.123456"));
    assertThat(config.budgets().get(2).limitUsd()).isEqualByComparingTo("1000000000");
  }

  @Test
  void unknownFieldIsAnErrorNamingTheKnownOnes() {
    assertThatThrownBy(() -> parse("budgets: [{ scope: tenant, id: a, period: daily, limit: 1 }]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("budgets[0]: unknown field 'limit' (expected one of: "
            + "[alert_thresholds, downgrade_to, id, limit_usd, period, scope])");
    assertThatThrownBy(() -> parse("budget: []"))
        .hasMessage(
            "limits: unknown field 'budget' (expected one of: [budgets, on_store_error, rates])");
  }

  @Test
  void invalidValuesNameTheFieldAndWhatWasExpected() {
    assertError(
        "budgets: [{ scope: user, id: a, period: daily, limit_usd: 1 }]",
        "budgets[0].scope: user (expected: api_key, tenant or route)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: weekly, limit_usd: 1 }]",
        "budgets[0].period: weekly (expected: daily or monthly)");
    assertError(
        "budgets: [{ scope: tenant, period: daily, limit_usd: 1 }]",
        "budgets[0].id: missing (expected: a value)");
    assertError(
        "budgets: [{ scope: tenant, id: ' ', period: daily, limit_usd: 1 }]",
        "budgets[0].id: ' ' (expected: an API key fingerprint, a tenant name, or \"*\" for every one)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: -5 }]",
        "budgets[0].limit_usd: -5 (expected: a dollar amount >= 0 and <= 1000000000 with at most 6 decimal places)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: \"0.0000001\" }]",
        "budgets[0].limit_usd: 0.0000001 (expected: a dollar amount >= 0 and <= 1000000000 with at most 6 decimal places)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: ten }]",
        "budgets[0].limit_usd: ten (expected: a decimal number, e.g. 12.50 or \"12.50\")");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: 1, alert_thresholds: [0] }]",
        "budgets[0].alert_thresholds: 0 (expected: fractions of the limit > 0 and <= 10, e.g. 0.8)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: 1, alert_thresholds: [0.5, 0.50] }]",
        "budgets[0].alert_thresholds: 0.5 appears twice (expected: distinct values)");
    assertError(
        "budgets: [{ scope: tenant, id: a, period: daily, limit_usd: 1, downgrade_to: '' }]",
        "budgets[0].downgrade_to: '' (expected: a model name, or no downgrade_to)");
    assertError(
        "rates: [{ scope: tenant, id: a, tokens_per_minute: 1.5 }]",
        "rates[0].tokens_per_minute: 1.5 (expected: a whole number >= 0)");
    assertError(
        "rates: [{ scope: tenant, id: a, tokens_per_minute: -1 }]",
        "rates[0].tokens_per_minute: -1 (expected: 0 (no limit) to 1000000000000)");
    assertError(
        "rates: [{ scope: tenant, id: a }]",
        "rates[0].tokens_per_minute and requests_per_minute: both 0 (expected: at least one > 0)");
    assertError(
        "on_store_error: { budgets: ignore }",
        "on_store_error.budgets: ignore (expected: fail_open or fail_closed)");
    assertError("budgets: { scope: tenant }", "budgets: {scope=tenant} (expected: a list)");
    assertError("rates: [ 5 ]", "rates[0]: 5 (expected: an object)");
  }

  @Test
  void aSecondRuleForTheSameScopeIsAnError() {
    assertError(
        """
        budgets:
          - { scope: tenant, id: a, period: daily, limit_usd: 1 }
          - { scope: tenant, id: a, period: monthly, limit_usd: 10 }
          - { scope: tenant, id: a, period: daily, limit_usd: 2 }
        """,
        "budgets[2]: a second daily budget for tenant 'a' (expected: one budget per scope, id and period)");
    assertError(
        """
        rates:
          - { scope: api_key, id: "*", tokens_per_minute: 1 }
          - { scope: api_key, id: "*", requests_per_minute: 1 }
        """,
        "rates[1]: a second rate limit for api_key '*' (expected: one rate rule per scope and id; "
            + "set tokens_per_minute and requests_per_minute in the same rule)");
  }

  @Test
  void thresholdsAreKeptSorted() {
    BudgetRule rule = new BudgetRule(
        ScopeKind.TENANT,
        "a",
        Period.DAILY,
        BigDecimal.ONE,
        List.of(new BigDecimal("0.9"), new BigDecimal("0.5")),
        null);

    assertThat(rule.alertThresholds())
        .containsExactly(new BigDecimal("0.5"), new BigDecimal("0.9"));
  }

  static void assertError(String yaml, String message) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }
}
