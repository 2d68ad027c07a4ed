package dev.llmgw.controlplane.spend;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The child process of {@link FileSpendLedgerCrashTest}: opens a ledger that compacts in the
 * background after nearly every batch, and records one batch per simulated day as fast as it can
 * until it is killed, printing {@code ACK <i>} after batch {@code i} returned. Batch {@code i} holds
 * {@value #RECORDS} records of its day (model {@code m}) and one late record of 30 days before
 * (model {@code late}), so every batch leaves its own rows in the totals.
 *
 * <p>Usage: {@code LedgerCrashWriter <dir> <first batch>}
 */
final class LedgerCrashWriter {

  static final LocalDate FIRST_DAY = LocalDate.of(2026, 1, 1);
  static final int RECORDS = 8;
  static final String COST = "0.000125";
  static final String LATE_COST = "1.5";
  /** A short window and no margin: the journal keeps about three days, so compaction runs all the time. */
  static final int WINDOW_DAYS = 2;

  static final FileSpendLedger.Compaction COMPACTION = new FileSpendLedger.Compaction(0, 1);

  private LedgerCrashWriter() {}

  static LocalDate day(long batch) {
    return FIRST_DAY.plusDays(batch);
  }

  /** Noon of the batch's day: the writer's clock while it records the batch. */
  static Instant at(long batch) {
    return day(batch).atTime(12, 0).toInstant(ZoneOffset.UTC);
  }

  static List<Spend> batch(long i) {
    List<Spend> records = new ArrayList<>();
    for (int r = 0; r < RECORDS; r++) {
      records.add(SpendFixtures.spend("b" + i + "-r" + r, day(i), "t" + (i % 3), "k", "m", COST));
    }
    records.add(SpendFixtures.spend(
        "b" + i + "-late", day(i).minusDays(30), "t" + (i % 3), "k", "late", LATE_COST));
    return records;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long first = Long.parseLong(args[1]);
    // Raw stdout: one write(2) per line, so a kill never leaves half a line in the pipe.
    FileOutputStream out = new FileOutputStream(FileDescriptor.out);
    SpendFixtures.MutableClock clock = new SpendFixtures.MutableClock(at(first));
    try (FileSpendLedger ledger = FileSpendLedger.open(dir, clock, WINDOW_DAYS, COMPACTION)) {
      print(out, "OPEN " + ledger.generation());
      for (long i = first; ; i++) {
        clock.set(at(i));
        ledger.record(batch(i), "crash-writer");
        print(out, "ACK " + i);
      }
    }
  }

  private static void print(FileOutputStream out, String line) throws IOException {
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
  }
}
