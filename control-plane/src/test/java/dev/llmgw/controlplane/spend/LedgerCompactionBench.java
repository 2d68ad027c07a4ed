package dev.llmgw.controlplane.spend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * What compaction buys, measured by hand (not a test): fills a ledger with {@code records} records
 * spread evenly over {@code days} UTC days, each recorded on its day in batches of 500 (about 1% of
 * them late, from the day before), then times opening it before and after one compaction and
 * compares the disk use. Every query is checked to answer the same before and after. Command and
 * results: {@code docs/benchmarks.md}.
 *
 * <p>Usage: {@code LedgerCompactionBench <new directory> [records, default 2000000] [days, default 60]}
 */
final class LedgerCompactionBench {

  private static final LocalDate TODAY = LocalDate.of(2026, 11, 22);
  private static final int BATCH = 500;
  private static final int OPENS = 3;
  private static final String[] APPS = {
    "checkout-service", "support-assistant", "search-indexer", "mobile-app", "internal-tools"
  };
  private static final String[][] MODELS = {
    {"openai", "fast", "gpt-4o-mini-2024-07-18"},
    {"openai", "smart", "gpt-4o-2024-08-06"},
    {"anthropic", "smart", "claude-sonnet-4-5-20250929"},
    {"anthropic", "fast", "claude-haiku-4-5-20251001"},
    {"openai", "reasoning", "o3-mini-2025-01-31"},
    {"google", "fast", "gemini-2.0-flash-001"}
  };

  private LedgerCompactionBench() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int records = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    int days = args.length > 2 ? Integer.parseInt(args[2]) : 60;
    if (Files.exists(dir)) {
      try (Stream<Path> files = Files.list(dir)) {
        if (files.findAny().isPresent()) {
          throw new IllegalArgumentException(
              dir + ": not empty (expected: a new directory for the ledger)");
        }
      }
    }
    SpendFixtures.MutableClock clock =
        new SpendFixtures.MutableClock(TODAY.atStartOfDay().toInstant(ZoneOffset.UTC));
    FileSpendLedger.Compaction manual = new FileSpendLedger.Compaction(1, Long.MAX_VALUE);
    Random random = new Random(1);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      keys.add("fp-" + HexFormat.of().toHexDigits(random.nextLong()).substring(0, 16));
    }

    long started = System.nanoTime();
    try (FileSpendLedger ledger = FileSpendLedger.open(
        dir, clock, SpendLedger.DEFAULT_DEDUP_WINDOW_DAYS, manual, Runnable::run)) {
      int written = 0;
      for (int d = 0; d < days; d++) {
        LocalDate day = TODAY.minusDays(days - 1 - d);
        long dayStart = day.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
        int first = (int) ((long) records * d / days);
        int target = (int) ((long) records * (d + 1) / days);
        while (written < target) {
          int n = Math.min(BATCH, target - written);
          long at = dayStart
              + 86_400_000L * (written - first) / (target - first); // batches spread over the day
          List<Spend> batch = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            long recordAt = d > 0 && random.nextInt(100) == 0 ? at - 86_400_000L : at;
            batch.add(record(
                random, keys, Math.max(dayStart - 86_400_000L, recordAt - random.nextInt(60_000))));
          }
          clock.set(Instant.ofEpochMilli(at + 1000));
          ledger.record(batch, "ext-proc-bench-" + (written / BATCH % 4));
          written += n;
        }
      }
    }
    double writeSeconds = (System.nanoTime() - started) / 1e9;
    long journalBefore = Files.size(dir.resolve(FileSpendLedger.JOURNAL_FILE));
    System.out.printf(
        Locale.ROOT,
        "wrote %,d records over %d days in %.1f s (%,.0f records/s, fsync per batch of %d)%n",
        records,
        days,
        writeSeconds,
        records / writeSeconds,
        BATCH);
    System.out.printf(
        Locale.ROOT,
        "journal: %,d bytes, %.0f bytes per record%n",
        journalBefore,
        (double) journalBefore / records);

    clock.set(TODAY.atTime(12, 0).toInstant(ZoneOffset.UTC));
    List<Long> before = new ArrayList<>();
    List<List<SpendRow>> answersBefore = null;
    for (int i = 0; i < OPENS; i++) {
      long t = System.nanoTime();
      try (FileSpendLedger ledger = FileSpendLedger.open(
          dir, clock, SpendLedger.DEFAULT_DEDUP_WINDOW_DAYS, manual, Runnable::run)) {
        before.add((System.nanoTime() - t) / 1_000_000);
        answersBefore = answers(ledger, days);
      }
    }

    FileSpendLedger.Compacted done;
    try (FileSpendLedger ledger = FileSpendLedger.open(
        dir, clock, SpendLedger.DEFAULT_DEDUP_WINDOW_DAYS, manual, Runnable::run)) {
      done = ledger.compact();
      if (!answers(ledger, days).equals(answersBefore)) {
        throw new AssertionError("the compacted ledger answers differently");
      }
    }
    long journalAfter = Files.size(dir.resolve(FileSpendLedger.JOURNAL_FILE));
    long totals = Files.size(dir.resolve(FileSpendLedger.TOTALS_FILE));

    List<Long> after = new ArrayList<>();
    for (int i = 0; i < OPENS; i++) {
      long t = System.nanoTime();
      try (FileSpendLedger ledger = FileSpendLedger.open(
          dir, clock, SpendLedger.DEFAULT_DEDUP_WINDOW_DAYS, manual, Runnable::run)) {
        after.add((System.nanoTime() - t) / 1_000_000);
        if (!answers(ledger, days).equals(answersBefore)) {
          throw new AssertionError("the reopened compacted ledger answers differently");
        }
      }
    }

    System.out.printf(
        Locale.ROOT,
        "compaction: folded %,d records of days before %s, kept %,d; %,d totals rows;"
            + " %,d ms in all, writers waited %,d ms%n",
        done.foldedRecords(),
        done.foldedBefore(),
        done.keptRecords(),
        done.totalsRows(),
        done.millis(),
        done.blockedMillis());
    System.out.printf(
        Locale.ROOT,
        "%-18s %14s %14s %14s %22s%n",
        "",
        "journal bytes",
        "totals bytes",
        "on disk",
        "open (ms), " + OPENS + " runs");
    System.out.printf(
        Locale.ROOT,
        "%-18s %,14d %14s %,14d %22s%n",
        "before compaction",
        journalBefore,
        "-",
        journalBefore,
        before);
    System.out.printf(
        Locale.ROOT,
        "%-18s %,14d %,14d %,14d %22s%n",
        "after compaction",
        journalAfter,
        totals,
        journalAfter + totals,
        after);
    System.out.println("every query answered the same before and after: true");
  }

  private static Spend record(Random random, List<String> keys, long atMillis) {
    int key = random.nextInt(keys.size());
    String[] model = MODELS[random.nextInt(MODELS.length)];
    long input = 200 + random.nextInt(4000);
    long output = 20 + random.nextInt(800);
    boolean estimated = random.nextInt(10) == 0;
    String cost = String.format(Locale.ROOT, "0.%012d", random.nextInt(50_000_000) * 1000L);
    return Spend.from(
        dev.llmgw.proto.spend.v1.SpendRecord.newBuilder()
            .setId(new UUID(random.nextLong(), random.nextLong()).toString())
            .setAtEpochMillis(atMillis)
            .setTenant("tenant-" + (key / 4))
            .setApiKeyId(keys.get(key))
            .setApplication(APPS[random.nextInt(APPS.length)])
            .setUser("user-" + random.nextInt(20_000) + "@example.com")
            .setRoute("chat-" + model[1])
            .setProvider(model[0])
            .setRequestedModel(model[1])
            .setModel(model[2])
            .setInputTokens(input)
            .setCachedInputTokens(random.nextInt(3) == 0 ? input / 2 : 0)
            .setCacheWriteTokens(0)
            .setOutputTokens(output)
            .setReasoningTokens(model[1].equals("reasoning") ? output * 3 : 0)
            .setCostUsd(cost)
            .setEstimated(estimated)
            .setPriceVersion("2026-11-01.3")
            .build(),
        "");
  }

  /** Every row of the range, grouped by all dimensions, and the totals per day: what REST can ask for. */
  private static List<List<SpendRow>> answers(SpendLedger ledger, int days) {
    LocalDate from = TODAY.minusDays(days + 1);
    return List.of(
        ledger.query(new SpendQuery(from, TODAY, Map.of(), SpendQuery.allDimensions())),
        ledger.query(new SpendQuery(from, TODAY, Map.of(), List.of(SpendQuery.Dimension.DAY))));
  }
}
