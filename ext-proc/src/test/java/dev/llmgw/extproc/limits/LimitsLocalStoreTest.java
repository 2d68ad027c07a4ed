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
    return new LocalLimitStore(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()), Runnable::run);
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
}
