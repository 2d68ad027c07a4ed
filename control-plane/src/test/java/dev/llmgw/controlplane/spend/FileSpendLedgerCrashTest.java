package dev.llmgw.controlplane.spend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a process that records spend while the ledger compacts in the background after nearly
 * every batch: after a restart every acknowledged batch is counted exactly once (its rows, and its
 * late record folded into the totals), the batch in flight is there whole or not at all, and the
 * ids of the window are still duplicates.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FileSpendLedgerCrashTest {

  private static final Pattern ACK = Pattern.compile("ACK (\\d+)");
  /** Per round: ACKs to read before ordering the kill, and how long after that order it lands. */
  private static final int[] ACKS_BEFORE_KILL = {40, 70, 40, 70};

  private static final long[] KILL_DELAY_MICROS = {0, 700, 2500, 6000};
  /** The first round gives up waiting for a compaction after this many batches. */
  private static final int MAX_ACKS_WAITING_FOR_COMPACTION = 20_000;

  @TempDir
  Path tmp;

  @Test
  void everyAcknowledgedBatchIsCountedOnceAfterKillDashNineDuringCompactions() throws Exception {
    Path dir = tmp.resolve("spend");
    List<Boolean> stored = new ArrayList<>(); // per batch index: whether the ledger must hold it
    List<String> summary = new ArrayList<>();
    ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
    long next = 0;
    try {
      for (int round = 0; round < ACKS_BEFORE_KILL.length; round++) {
        long started = System.nanoTime();
        Path stderr = tmp.resolve("writer-" + round + ".err");
        Process writer = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.logFile=System.err",
                "-cp",
                System.getProperty("java.class.path"),
                LedgerCrashWriter.class.getName(),
                dir.toString(),
                Long.toString(next))
            .redirectError(stderr.toFile())
            .start();
        long lastAck = next - 1;
        int acks = 0;
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(writer.getInputStream(), StandardCharsets.US_ASCII))) {
          String open = out.readLine();
          if (open == null) {
            fail("the writer exited before opening the ledger:\n" + Files.readString(stderr));
          }
          assertThat(open).startsWith("OPEN ");
          // The first round also waits for a compaction to have finished in the writer (on a slow
          // or
          // busy machine the background thread may need more batches than the count), so the kills
          // that follow land on a ledger that has compacted and keeps compacting.
          while (acks < ACKS_BEFORE_KILL[round] || (round == 0 && !compacted(stderr, acks))) {
            String line = out.readLine();
            if (line == null) {
              fail("the writer died after " + acks + " ACKs:\n" + Files.readString(stderr));
            }
            lastAck = ack(line, lastAck);
            acks++;
            if (acks > MAX_ACKS_WAITING_FOR_COMPACTION) {
              fail("no compaction logged after " + acks + " batches:\n" + Files.readString(stderr));
            }
          }
          // Through the handle: Process.destroyForcibly() would also close our end of the pipe.
          killer.schedule(
              () -> writer.toHandle().destroyForcibly(),
              KILL_DELAY_MICROS[round],
              TimeUnit.MICROSECONDS);
          for (String line = out.readLine(); line != null; line = out.readLine()) {
            lastAck = ack(line, lastAck);
            acks++;
          }
        }
        assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(writer.exitValue()).as("exit status of a SIGKILLed process").isEqualTo(128 + 9);
        long compactions = Files.readAllLines(stderr).stream()
            .filter(l -> l.contains("compacted the spend ledger"))
            .count();
        for (long i = next; i <= lastAck; i++) {
          stored.add(true);
        }
        long inFlight = lastAck + 1;

        SpendFixtures.MutableClock clock =
            new SpendFixtures.MutableClock(LedgerCrashWriter.at(inFlight));
        try (FileSpendLedger ledger = FileSpendLedger.open(
            dir,
            clock,
            LedgerCrashWriter.WINDOW_DAYS,
            new FileSpendLedger.Compaction(0, Long.MAX_VALUE),
            Runnable::run)) {
          boolean inFlightStored = requests(ledger, inFlight, "m") > 0;
          stored.add(inFlightStored);
          long expected = 0;
          for (int i = 0; i < stored.size(); i++) {
            long records = requests(ledger, i, "m");
            long late = requests(ledger, i, "late");
            if (stored.get(i)) {
              assertThat(records)
                  .as("records of batch %d, round %d", i, round)
                  .isEqualTo(LedgerCrashWriter.RECORDS);
              assertThat(late).as("late record of batch %d, round %d", i, round).isEqualTo(1);
              expected += LedgerCrashWriter.RECORDS + 1;
            } else {
              assertThat(records + late)
                  .as("batch %d, in flight when killed and not stored", i)
                  .isZero();
            }
          }
          SpendTotals all = total(ledger, 0, stored.size() - 1);
          assertThat(all.requests())
              .as("nothing counted twice or from nowhere")
              .isEqualTo(expected);
          long batches = stored.stream().filter(b -> b).count();
          assertThat(all.costUsd())
              .isEqualByComparingTo(new BigDecimal(LedgerCrashWriter.COST)
                  .multiply(BigDecimal.valueOf(batches * LedgerCrashWriter.RECORDS))
                  .add(new BigDecimal(LedgerCrashWriter.LATE_COST)
                      .multiply(BigDecimal.valueOf(batches))));
          for (long i = Math.max(0, inFlight - LedgerCrashWriter.WINDOW_DAYS); i <= lastAck; i++) {
            List<Spend> recent = LedgerCrashWriter.batch(i).subList(0, LedgerCrashWriter.RECORDS);
            assertThat(ledger.record(recent, "resend"))
                .as("batch %d sent again", i)
                .isEqualTo(new SpendLedger.Recorded(0, LedgerCrashWriter.RECORDS));
          }
          summary.add(String.format(
              "round %d: %d ACKs (kill ordered after %d, +%d us), batch in flight %s,"
                  + " %d compactions logged, generation %d on reopen, journal %d bytes; %.1f s",
              round + 1,
              acks,
              ACKS_BEFORE_KILL[round],
              KILL_DELAY_MICROS[round],
              inFlightStored ? "stored" : "not stored",
              compactions,
              ledger.generation(),
              ledger.journalBytes(),
              (System.nanoTime() - started) / 1e9));
          if (round == 0) {
            assertThat(compactions)
                .as("compactions ran while the writer recorded")
                .isPositive();
          }
        }
        next = inFlight + 1;
      }
    } finally {
      killer.shutdownNow();
    }
    summary.forEach(System.out::println);
  }

  /** Whether the writer has logged a finished compaction; looked at every 10 batches only, as it reads a file. */
  private static boolean compacted(Path stderr, int acks) throws java.io.IOException {
    return acks % 10 == 0 && Files.readString(stderr).contains("compacted the spend ledger");
  }

  private static long ack(String line, long previous) {
    Matcher m = ACK.matcher(line);
    assertThat(m.matches()).as("writer output line '%s'", line).isTrue();
    long batch = Long.parseLong(m.group(1));
    assertThat(batch).as("batch after %d", previous).isEqualTo(previous + 1);
    return batch;
  }

  /** Records of batch {@code i} with {@code model}: those of its day, or its late record 30 days earlier. */
  private static long requests(SpendLedger ledger, long i, String model) {
    var day =
        model.equals("late") ? LedgerCrashWriter.day(i).minusDays(30) : LedgerCrashWriter.day(i);
    List<SpendRow> rows = ledger.query(
        new SpendQuery(day, day, Map.of(SpendQuery.Dimension.MODEL, model), List.of()));
    return rows.isEmpty() ? 0 : rows.get(0).totals().requests();
  }

  private static SpendTotals total(SpendLedger ledger, long first, long last) {
    SpendTotals sum = SpendTotals.ZERO;
    var from = LedgerCrashWriter.day(first).minusDays(30);
    var to = LedgerCrashWriter.day(last);
    for (var start = from; !start.isAfter(to); start = start.plusDays(SpendQuery.MAX_DAYS)) {
      var end = start.plusDays(SpendQuery.MAX_DAYS - 1).isAfter(to)
          ? to
          : start.plusDays(SpendQuery.MAX_DAYS - 1);
      for (SpendRow r : ledger.query(new SpendQuery(start, end, Map.of(), List.of()))) {
        sum = sum.plus(r.totals());
      }
    }
    return sum;
  }
}
