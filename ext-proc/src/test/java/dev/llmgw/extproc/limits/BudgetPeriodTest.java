package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class BudgetPeriodTest {

  static Instant at(String instant) {
    return Instant.parse(instant);
  }

  @Test
  void dailyPeriodRunsFromMidnightToMidnightUtc() {
    LocalDate start = Period.DAILY.startDate(at("2026-03-14T23:59:59.999Z"));

    assertThat(start).isEqualTo(LocalDate.of(2026, 3, 14));
    assertThat(Period.DAILY.end(start)).isEqualTo(at("2026-03-15T00:00:00Z"));
    assertThat(Period.DAILY.startDate(at("2026-03-15T00:00:00Z")))
        .as("midnight starts the new day")
        .isEqualTo(LocalDate.of(2026, 3, 15));
  }

  @Test
  void dailyPeriodIgnoresDaylightSavingBecauseItIsUtc() {
    LocalDate start = Period.DAILY.startDate(at("2026-03-29T01:30:00Z"));

    assertThat(Period.DAILY.end(start)).isEqualTo(at("2026-03-30T00:00:00Z"));
  }

  @Test
  void monthlyPeriodRunsFromTheFirstToTheFirstUtc() {
    assertThat(Period.MONTHLY.startDate(at("2026-01-31T23:59:59.999Z")))
        .isEqualTo(LocalDate.of(2026, 1, 1));
    assertThat(Period.MONTHLY.end(LocalDate.of(2026, 1, 1))).isEqualTo(at("2026-02-01T00:00:00Z"));
    assertThat(Period.MONTHLY.startDate(at("2026-02-01T00:00:00Z")))
        .isEqualTo(LocalDate.of(2026, 2, 1));
  }

  @Test
  void monthlyPeriodHandlesFebruaryAndTheYearsEnd() {
    assertThat(Period.MONTHLY.end(Period.MONTHLY.startDate(at("2027-02-28T12:00:00Z"))))
        .isEqualTo(at("2027-03-01T00:00:00Z"));
    assertThat(Period.MONTHLY.end(Period.MONTHLY.startDate(at("2028-02-29T12:00:00Z"))))
        .isEqualTo(at("2028-03-01T00:00:00Z"));
    assertThat(Period.MONTHLY.end(Period.MONTHLY.startDate(at("2026-12-31T23:59:59Z"))))
        .isEqualTo(at("2027-01-01T00:00:00Z"));
  }

  @Test
  void budgetKeysNameTheScopeThePeriodAndItsFirstDay() {
    assertThat(Keys.budget(ScopeKind.TENANT, Period.MONTHLY, LocalDate.of(2026, 3, 1), "acme"))
        .isEqualTo("budget:tenant:monthly:2026-03-01:acme");
    assertThat(Keys.tokens(ScopeKind.API_KEY, "key_1")).isEqualTo("rate:api_key:tokens:key_1");
    assertThat(Keys.requests(ScopeKind.TENANT, "a:b")).isEqualTo("rate:tenant:requests:a:b");
  }
}
