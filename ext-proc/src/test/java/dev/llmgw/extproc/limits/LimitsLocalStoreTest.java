package dev.llmgw.extproc.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The behaviour suite on {@link LocalLimitStore}, whose expiry runs on the test's clock. */
class LimitsLocalStoreTest extends LimitsBehaviourTest {

  @Override
  LimitStore newStore() {
    return new LocalLimitStore(
        () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()),
        Runnable::run,
        LocalLimitStore.MAX_UNKNOWN_COUNTERS);
  }

  @Test
  void countersOfPastPeriodsAndIdleWindowsExpire() {
    Limits limits = limits(
        List.of(tenantDaily("10")), List.of(new RateRule(ScopeKind.TENANT, TENANT, 1000, 10)));
    limits.settle(limits.admit(spend("1")), 10, usd("1"));
    assertThat(((LocalLimitStore) store).size()).isEqualTo(3);

    clock.advance(Duration.ofMinutes(2).plusSeconds(1));
    assertThat(((LocalLimitStore) store).size())
        .as("windows idle for two minutes are gone")
        .isEqualTo(1);

    clock.set(Instant.parse("2026-03-16T00:00:00Z").minusMillis(1));
    assertThat(((LocalLimitStore) store).size())
        .as("the 14th's budget lives until a day after its end")
        .isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    assertThat(((LocalLimitStore) store).size())
        .as("gone (Caffeine's timer wheel is about a second coarse)")
        .isZero();
  }

  @Test
  void clientChosenIdsCannotGrowTheStorePastItsBoundAndTheSpendOfKnownOnesSurvives() {
    Limits limits = limits(
        List.of(
            BudgetRule.of(ScopeKind.TENANT, BudgetRule.EVERY, Period.MONTHLY, usd("10")),
            BudgetRule.of(ScopeKind.TENANT, TENANT, Period.MONTHLY, usd("1"))),
        List.of());
    spent(limits, "0.9"); // acme: a rule names it
    LimitRequest registered =
        new LimitRequest(null, "registered", "gpt-4o", 0, usd("9.5"), null, false, true);
    limits.settle(limits.admit(registered), 0, usd("9.5")); // a tenant the policy knows

    // The attack: every request sends another x-llmgw-tenant, which only the "*" rule matches.
    for (int i = 0; i < 100_000; i++) {
      Admission a = limits.admit(new LimitRequest(null, "t" + i, "gpt-4o", 0, usd("0.01")));
      assertThat(a.admitted()).isTrue();
      limits.settle(a, 0, usd("0.01"));
    }

    assertThat(((LocalLimitStore) store).size())
        .as("counters: the bound for client-chosen ids plus the two known tenants")
        .isLessThanOrEqualTo(LocalLimitStore.MAX_UNKNOWN_COUNTERS + 2);
    assertThat(limits.admit(spend("0.2")).admitted())
        .as("acme's $0.90 is still counted")
        .isFalse();
    assertThat(limits
            .admit(new LimitRequest(null, "registered", "gpt-4o", 0, usd("1"), null, false, true))
            .admitted())
        .as("the known tenant's $9.50 is still counted")
        .isFalse();
  }
}
