package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.spend.SpendFixtures.NOW;
import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static dev.llmgw.controlplane.spend.SpendFixtures.batch;
import static dev.llmgw.controlplane.spend.SpendFixtures.spend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.controlplane.spend.SpendQuery.Dimension;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules every {@link SpendLedger} follows; each implementation's test extends this. */
abstract class SpendLedgerContract {

  @TempDir
  Path tmp;

  final SpendFixtures.MutableClock clock = new SpendFixtures.MutableClock(NOW);
  SpendLedger ledger;

  /** A new, empty ledger on {@code clock}; closed after each test. */
  abstract SpendLedger newLedger(Path dir, SpendFixtures.MutableClock clock);

  @BeforeEach
  void openLedger() {
    ledger = newLedger(tmp.resolve("spend"), clock);
  }

  @AfterEach
  void closeLedger() {
    ledger.close();
  }

  static SpendQuery all(java.time.LocalDate from, java.time.LocalDate to) {
    return new SpendQuery(from, to, Map.of(), SpendQuery.allDimensions());
  }

  static SpendQuery total(java.time.LocalDate from, java.time.LocalDate to) {
    return new SpendQuery(from, to, Map.of(), List.of());
  }

  @Test
  void addsUpTokensAndExactCostsPerDayTenantKeyAndModel() {
    Spend estimated = Spend.from(
        SpendFixtures.record("c", TODAY, "acme", "key-1", "gpt-4o", "0.000000000001")
            .setEstimated(true)
            .build(),
        "");
    SpendLedger.Recorded r =
        ledger.record(List.of(spend("a", "0.1"), spend("b", "0.2"), estimated), "test");

    assertThat(r).isEqualTo(new SpendLedger.Recorded(3, 0));
    List<SpendRow> rows = ledger.query(all(TODAY, TODAY));
    assertThat(rows).hasSize(1);
    SpendRow row = rows.get(0);
    assertThat(row.day()).isEqualTo(TODAY);
    assertThat(row.tenant()).isEqualTo("acme");
    assertThat(row.apiKeyId()).isEqualTo("key-1");
    assertThat(row.model()).isEqualTo("gpt-4o");
    SpendTotals t = row.totals();
    assertThat(t.requests()).isEqualTo(3);
    assertThat(t.inputTokens()).isEqualTo(30);
    assertThat(t.cachedInputTokens()).isEqualTo(3);
    assertThat(t.cacheWriteTokens()).isEqualTo(6);
    assertThat(t.outputTokens()).isEqualTo(60);
    assertThat(t.reasoningTokens()).isEqualTo(9);
    assertThat(t.costUsd())
        .as("0.1 + 0.2 is exactly 0.3 here, unlike in a double")
        .isEqualByComparingTo(new BigDecimal("0.300000000001"));
    assertThat(t.estimatedRequests()).isEqualTo(1);
    assertThat(t.estimatedCostUsd()).isEqualByComparingTo("0.000000000001");
  }

  @Test
  void aRecordIdIsCountedOnceWhetherRepeatedInABatchOrSentAgain() {
    assertThat(ledger.record(List.of(spend("a", "1"), spend("a", "1"), spend("b", "1")), "test"))
        .isEqualTo(new SpendLedger.Recorded(2, 1));
    assertThat(ledger.record(List.of(spend("b", "1"), spend("c", "1")), "test"))
        .isEqualTo(new SpendLedger.Recorded(1, 1));
    assertThat(ledger.record(List.of(spend("a", "1"), spend("b", "1"), spend("c", "1")), "test"))
        .isEqualTo(new SpendLedger.Recorded(0, 3));

    assertThat(ledger.query(total(TODAY, TODAY)).get(0).totals().costUsd())
        .isEqualByComparingTo("3");
  }

  @Test
  void groupsByAnySubsetOfDimensionsAndFiltersExactly() {
    var yesterday = TODAY.minusDays(1);
    ledger.record(
        List.of(
            spend("1", yesterday, "acme", "k1", "gpt-4o", "1"),
            spend("2", TODAY, "acme", "k1", "gpt-4o", "2"),
            spend("3", TODAY, "acme", "k2", "claude-sonnet-4-5", "4"),
            spend("4", TODAY, "globex", "k3", "gpt-4o", "8"),
            spend("5", TODAY, "", "", "gpt-4o", "16")),
        "test");

    assertThat(ledger.query(all(yesterday, TODAY)))
        .extracting(r -> r.day() + "/" + r.tenant() + "/" + r.apiKeyId() + "/" + r.model() + "="
            + r.totals().costUsd().toPlainString())
        .containsExactly(
            "2026-11-21/acme/k1/gpt-4o=1",
            "2026-11-22///gpt-4o=16",
            "2026-11-22/acme/k1/gpt-4o=2",
            "2026-11-22/acme/k2/claude-sonnet-4-5=4",
            "2026-11-22/globex/k3/gpt-4o=8");

    List<SpendRow> byTenant =
        ledger.query(new SpendQuery(yesterday, TODAY, Map.of(), List.of(Dimension.TENANT)));
    assertThat(byTenant).extracting(SpendRow::tenant).containsExactly("", "acme", "globex");
    assertThat(byTenant).extracting(r -> r.totals().requests()).containsExactly(1L, 3L, 1L);
    assertThat(byTenant).allSatisfy(r -> assertThat(r.day()).isNull());

    List<SpendRow> acmeByModel = ledger.query(new SpendQuery(
        yesterday, TODAY, Map.of(Dimension.TENANT, "acme"), List.of(Dimension.MODEL)));
    assertThat(acmeByModel)
        .extracting(r -> r.model() + "=" + r.totals().costUsd().toPlainString())
        .containsExactly("claude-sonnet-4-5=4", "gpt-4o=3");

    assertThat(ledger.query(new SpendQuery(
            yesterday,
            TODAY,
            Map.of(SpendQuery.Dimension.MODEL, "gpt-4o"),
            List.of(Dimension.DAY))))
        .extracting(r -> r.day() + "=" + r.totals().costUsd().toPlainString())
        .containsExactly("2026-11-21=1", "2026-11-22=26");
    assertThat(ledger.query(
            new SpendQuery(yesterday, TODAY, Map.of(SpendQuery.Dimension.TENANT, ""), List.of())))
        .as("an empty filter finds the records without that attribute")
        .extracting(r -> r.totals().costUsd().toPlainString())
        .containsExactly("16");
    assertThat(ledger
            .query(new SpendQuery(
                yesterday, TODAY, Map.of(SpendQuery.Dimension.API_KEY_ID, "k2"), List.of()))
            .get(0)
            .totals()
            .requests())
        .isEqualTo(1);
    assertThat(ledger.query(all(TODAY.plusDays(1), TODAY.plusDays(3)))).isEmpty();
    assertThat(ledger.query(total(yesterday, yesterday)))
        .singleElement()
        .satisfies(r -> assertThat(r.totals().costUsd()).isEqualByComparingTo("1"));
  }

  @Test
  void theRouteAndTheProviderThatServedAreDimensionsOfTheirOwn() {
    ledger.record(
        List.of(
            served("1", "split", "primary", "1"),
            served("2", "split", "secondary", "2"),
            served("3", "split", "primary", "4"),
            served("4", "chain", "secondary", "8")),
        "test");

    assertThat(ledger.query(
            new SpendQuery(TODAY, TODAY, Map.of(), List.of(Dimension.ROUTE, Dimension.PROVIDER))))
        .extracting(r -> r.route() + "/" + r.provider() + "=" + r.totals().requests() + "/"
            + r.totals().costUsd().toPlainString())
        .containsExactly("chain/secondary=1/8", "split/primary=2/5", "split/secondary=1/2");
    assertThat(ledger.query(new SpendQuery(
            TODAY, TODAY, Map.of(Dimension.PROVIDER, "secondary"), List.of(Dimension.ROUTE))))
        .extracting(r -> r.route() + "=" + r.totals().requests())
        .containsExactly("chain=1", "split=1");
    assertThat(ledger.query(all(TODAY, TODAY)))
        .as("every dimension, route and provider included")
        .extracting(r -> r.route() + "/" + r.provider())
        .containsExactly("chain/secondary", "split/primary", "split/secondary");
  }

  private static Spend served(String id, String route, String provider, String cost) {
    return Spend.from(
        SpendFixtures.record(id, TODAY, "acme", "k1", "gpt-4o", cost)
            .setRoute(route)
            .setProvider(provider)
            .build(),
        "");
  }

  @Test
  void recordsAreFiledUnderTheirUtcDay() {
    ledger.record(
        List.of(
            Spend.from(
                SpendFixtures.record("late", TODAY, "t", "k", "m", "1")
                    .setAtEpochMillis(TODAY
                        .atTime(23, 59, 59, 999_000_000)
                        .toInstant(java.time.ZoneOffset.UTC)
                        .toEpochMilli())
                    .build(),
                ""),
            Spend.from(
                SpendFixtures.record("midnight", TODAY, "t", "k", "m", "2")
                    .setAtEpochMillis(TODAY
                        .plusDays(1)
                        .atStartOfDay()
                        .toInstant(java.time.ZoneOffset.UTC)
                        .toEpochMilli())
                    .build(),
                "")),
        "test");

    assertThat(ledger.query(all(TODAY, TODAY.plusDays(1))))
        .extracting(r -> r.day() + "=" + r.totals().costUsd().toPlainString())
        .containsExactly("2026-11-22=1", "2026-11-23=2");
  }

  @Test
  void idsAreRememberedForTheDedupWindowOnly() {
    var old = TODAY.minusDays(ledger.dedupWindowDays());
    ledger.record(List.of(spend("edge", old, "t", "k", "m", "1")), "test");
    assertThat(ledger
            .record(List.of(spend("edge", old, "t", "k", "m", "1")), "test")
            .duplicates())
        .isEqualTo(1);

    clock.set(NOW.plus(Duration.ofDays(1)));
    ledger.record(List.of(spend("tomorrow", TODAY.plusDays(1), "t", "k", "m", "1")), "test");
    assertThat(ledger.record(List.of(spend("edge", old, "t", "k", "m", "1")), "test"))
        .as("a record older than the window is counted without a duplicate check (docs/ledger.md)")
        .isEqualTo(new SpendLedger.Recorded(1, 0));
    assertThat(ledger.query(total(old, old)).get(0).totals().requests()).isEqualTo(2);
  }

  @Test
  void concurrentBatchesAreEachStoredOnceAndQueriesSeeWholeBatches() throws Exception {
    int writers = 6;
    int batchesEach = 25;
    int batchSize = 10;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
    try {
      CyclicBarrier start = new CyclicBarrier(writers + 1);
      List<Future<Integer>> results = new ArrayList<>();
      AtomicBoolean writing = new AtomicBoolean(true);
      for (int w = 0; w < writers; w++) {
        // Writers pair up on the same ids: every batch is sent twice, by two threads at once.
        int ids = w / 2;
        results.add(pool.submit((Callable<Integer>) () -> {
          start.await();
          int accepted = 0;
          for (int b = 0; b < batchesEach; b++) {
            accepted += ledger
                .record(batch("w" + ids + "-b" + b, batchSize, "0.01"), "writer")
                .accepted();
          }
          return accepted;
        }));
      }
      Future<Integer> reader = pool.submit(() -> {
        start.await();
        int queries = 0;
        while (writing.get()) {
          for (SpendRow r : ledger.query(total(TODAY, TODAY))) {
            assertThat(r.totals().requests() % batchSize)
                .as("a query sees whole batches")
                .isZero();
          }
          queries++;
        }
        return queries;
      });
      int accepted = 0;
      for (Future<Integer> f : results) {
        accepted += f.get(60, TimeUnit.SECONDS);
      }
      writing.set(false);
      reader.get(60, TimeUnit.SECONDS);

      int unique = writers / 2 * batchesEach * batchSize;
      assertThat(accepted).isEqualTo(unique);
      SpendTotals t = ledger.query(total(TODAY, TODAY)).get(0).totals();
      assertThat(t.requests()).isEqualTo(unique);
      assertThat(t.costUsd())
          .isEqualByComparingTo(new BigDecimal("0.01").multiply(BigDecimal.valueOf(unique)));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClosedLedgerRefusesRecords() {
    ledger.close();
    assertThatThrownBy(() -> ledger.record(List.of(spend("a", "1")), "test"))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining("closed");
  }
}
