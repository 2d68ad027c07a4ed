package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.spend.SpendFixtures.NOW;
import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmgw.controlplane.spend.FileSpendLedger.Step;
import dev.llmgw.controlplane.spend.SpendQuery.Dimension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compaction of {@link FileSpendLedger}: the totals file and the shortened journal answer every
 * query as the full journal did, keep the ids of the duplicate window, survive a crash at every step
 * and refuse damage. Checked against an {@link InMemorySpendLedger} fed the same batches.
 */
class FileSpendLedgerCompactionTest {

  /** Compaction only when a test asks for it. */
  private static final FileSpendLedger.Compaction MANUAL =
      new FileSpendLedger.Compaction(1, Long.MAX_VALUE);

  private static final Executor DIRECT = Runnable::run;
  private static final int DAYS = 20;
  /** With a 7-day window and 1 day of margin, records of this day and later stay records. */
  private static final LocalDate KEPT_FROM = TODAY.minusDays(8);

  @TempDir
  Path tmp;

  private final SpendFixtures.MutableClock clock = new SpendFixtures.MutableClock(NOW);
  private final List<Runnable> cleanup = new ArrayList<>();
  private FileSpendLedger ledger;
  /** Fed every batch the file ledger gets: what every query must answer. */
  private InMemorySpendLedger oracle;
  /** Every batch given to both, with the time it was recorded at. */
  private final List<Map.Entry<Instant, List<Spend>>> recorded = new ArrayList<>();

  @BeforeEach
  void openLedger() {
    ledger = open(dir(), MANUAL);
    oracle = new InMemorySpendLedger(clock);
  }

  @AfterEach
  void closeLedgers() {
    ledger.close();
    oracle.close();
    cleanup.forEach(Runnable::run);
  }

  private Path dir() {
    return tmp.resolve("spend");
  }

  private FileSpendLedger open(Path dir, FileSpendLedger.Compaction compaction) {
    FileSpendLedger opened =
        FileSpendLedger.open(dir, clock, SpendLedger.DEFAULT_DEDUP_WINDOW_DAYS, compaction, DIRECT);
    cleanup.add(opened::close);
    return opened;
  }

  private FileSpendLedger reopen() {
    ledger.close();
    ledger = open(dir(), MANUAL);
    return ledger;
  }

  @Test
  void compactionFoldsOldDaysAndEveryQueryAnswersAsBeforeAlsoAfterReopen() throws Exception {
    recordHistory();
    List<List<SpendRow>> before = answers(ledger);
    assertThat(before).isEqualTo(answers(oracle));
    long ids = ledger.rememberedIds();
    long journalBefore = Files.size(journal());
    long folded = journalRecords(journal()).stream()
        .filter(s -> s.day().isBefore(KEPT_FROM))
        .count();

    FileSpendLedger.Compacted done = ledger.compact();

    assertThat(done.generation()).isEqualTo(1);
    assertThat(done.foldedBefore()).isEqualTo(KEPT_FROM);
    assertThat(done.foldedRecords()).isEqualTo(folded).isPositive();
    assertThat(answers(ledger)).isEqualTo(before);
    assertThat(Files.size(journal()))
        .isEqualTo(done.journalBytesAfter())
        .isLessThan(journalBefore / 2);
    assertThat(journalRecords(journal()))
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.day()).as(s.id()).isAfterOrEqualTo(KEPT_FROM));
    assertThat(Files.readAllLines(journal()).get(1)).endsWith("{\"generation\":1}");

    assertThat(answers(reopen())).isEqualTo(before);
    assertThat(ledger.rememberedIds()).isEqualTo(ids);
    assertThat(ledger.generation()).isEqualTo(1);
  }

  @Test
  void recordsOfTheWindowAreStillDuplicatesAfterCompactionAndReopen() throws Exception {
    List<List<Spend>> batches = recordHistory();
    ledger.compact();
    reopen();

    for (List<Spend> batch : batches) {
      SpendLedger.Recorded expected = oracle.record(batch, "resend");
      assertThat(ledger.record(batch, "resend"))
          .as("resending %s", batch.get(0).id())
          .isEqualTo(expected);
    }
    List<Spend> recent = batches.get(batches.size() - 1);
    assertThat(ledger.record(recent, "resend"))
        .isEqualTo(new SpendLedger.Recorded(0, recent.size()));
    assertThat(answers(ledger)).isEqualTo(answers(oracle));
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
  }

  @Test
  void recordsKeepEveryAttributeForTheMarginAndOnlyTheirTotalsBeforeIt() throws Exception {
    recordHistory();
    ledger.close();
    ledger = open(dir(), new FileSpendLedger.Compaction(5, Long.MAX_VALUE));
    ledger.compact();

    List<Spend> kept = journalRecords(journal());
    assertThat(kept)
        .extracting(Spend::day)
        .allSatisfy(d -> assertThat(d).isAfterOrEqualTo(TODAY.minusDays(12)))
        .contains(TODAY.minusDays(12));
    assertThat(kept).allSatisfy(s -> {
      assertThat(s.application()).startsWith("app-");
      assertThat(s.user()).startsWith("user-");
      assertThat(s.route()).isEqualTo("chat");
      assertThat(s.priceVersion()).isEqualTo("2026-11-22.1");
    });
    String totals = Files.readString(dir().resolve(FileSpendLedger.TOTALS_FILE));
    assertThat(totals)
        .startsWith("llmgw-spend-totals 2\n")
        .contains("\"route\":\"chat\",\"provider\":\"primary\"")
        .doesNotContain("user-")
        .doesNotContain("app-");
    assertThat(answers(ledger)).isEqualTo(answers(oracle));
  }

  @ParameterizedTest
  @EnumSource(
      value = Step.class,
      names = {"PLANNED", "TOTALS_WRITTEN", "JOURNAL_FILTERED"})
  void batchesRecordedDuringACompactionAreKept(Step step) throws Exception {
    recordHistory();
    List<Spend> during = List.of(
        spend("during-today", TODAY, "acme", "k1", "gpt-4o", "0.125", 0),
        spend("during-late", TODAY.minusDays(15), "globex", "k2", "claude", "3.000001", 1));
    ledger.onCompactionStep(s -> {
      if (s == step) {
        recordBoth(during, "during");
      }
    });

    ledger.compact();

    assertThat(answers(ledger)).isEqualTo(answers(oracle));
    assertThat(journalRecords(journal())).extracting(Spend::id).contains("during-today");
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
    recordBoth(during, "again");
    assertThat(ledger.compact().foldedRecords())
        .as("the late record is folded by the next compaction")
        .isEqualTo(2);
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
  }

  /**
   * A crash at each step, as the disk holds it at that instant (page cache included, as after a
   * kill -9): the directory is copied from inside the compaction and opened as it is, temporary
   * files and all. A batch recorded during the compaction is in every copy taken after it.
   */
  @ParameterizedTest
  @EnumSource(Step.class)
  void aCrashAtAnyStepOfACompactionOpensToTheSameTotalsAndIds(Step step) throws Exception {
    recordHistory();
    ledger.compact(); // so the crash hits a second compaction, with a totals file already there
    clock.set(NOW.plus(Duration.ofDays(3)));
    recordDay(TODAY.plusDays(3), "p3");
    InMemorySpendLedger withoutTail = replica();
    List<Spend> tail = List.of(
        spend("tail-1", TODAY.plusDays(3), "acme", "k1", "gpt-4o", "0.5", 2),
        spend("tail-late", TODAY.minusDays(30), "", "", "claude", "0.000000000007", 3));
    Path image = tmp.resolve("crash-" + step);
    ledger.onCompactionStep(s -> {
      if (s == Step.JOURNAL_FILTERED) {
        recordBoth(tail, "tail");
      }
      if (s == step) {
        copyWithoutLock(dir(), image);
      }
    });
    ledger.compact();
    InMemorySpendLedger expected = step.compareTo(Step.JOURNAL_FILTERED) < 0 ? withoutTail : oracle;
    long expectedIds = expected.rememberedIds();
    ledger.close();

    FileSpendLedger crashed = open(image, MANUAL);
    assertThat(answers(crashed)).as("after a crash at %s", step).isEqualTo(answers(expected));
    assertThat(crashed.rememberedIds()).isEqualTo(expectedIds);
    assertThat(Files.list(image).map(p -> p.getFileName().toString()))
        .as("no temporary file is left or used")
        .noneMatch(name -> name.endsWith(FileSpendLedger.TMP_SUFFIX));
    assertThat(crashed.generation()).isEqualTo(step.compareTo(Step.TOTALS_RENAMED) < 0 ? 1 : 2);
    List<Spend> recent = List.of(
        spend("p3-b0-r0", TODAY.plusDays(3), "", "", "", "1", 0),
        spend("after-crash", TODAY.plusDays(3), "acme", "k1", "gpt-4o", "2", 0));
    assertThat(crashed.record(recent, "after")).isEqualTo(expected.record(recent, "after"));
    crashed.close();

    FileSpendLedger again = open(image, MANUAL);
    assertThat(answers(again)).isEqualTo(answers(expected));
    long generation = again.generation();
    assertThat(again.compact().generation()).isEqualTo(generation + 1);
    assertThat(answers(again)).isEqualTo(answers(expected));
    again.close();
    assertThat(answers(open(image, MANUAL))).isEqualTo(answers(expected));
  }

  @ParameterizedTest
  @EnumSource(Step.class)
  void aFailureAtAnyStepLosesNothing(Step step) throws Exception {
    recordHistory();
    List<List<SpendRow>> before = answers(ledger);
    ledger.onCompactionStep(s -> {
      if (s == step) {
        throw new IOException("injected failure at " + s);
      }
    });

    assertThatThrownBy(ledger::compact).hasMessageContaining("injected failure at " + step);

    assertThat(answers(ledger)).isEqualTo(before);
    assertThat(Files.list(dir()).map(p -> p.getFileName().toString()))
        .noneMatch(name -> name.endsWith(FileSpendLedger.TMP_SUFFIX));
    List<Spend> next = List.of(spend("next", TODAY, "acme", "k1", "gpt-4o", "1", 0));
    if (step == Step.TOTALS_RENAMED) {
      // The new totals are in place but the old journal is still the journal: only a reopen sorts
      // that out.
      assertThatThrownBy(() -> ledger.record(next, "next"))
          .isInstanceOf(SpendLedgerException.class)
          .hasMessageContaining("refuses writes after an earlier I/O failure")
          .hasMessageContaining(
              "failed after " + dir().resolve(FileSpendLedger.TOTALS_FILE) + " was replaced");
      assertThat(reopen().generation()).as("the open finished the compaction").isEqualTo(1);
    } else {
      assertThat(ledger.generation()).isEqualTo(step == Step.JOURNAL_RENAMED ? 1 : 0);
    }
    ledger.onCompactionStep(s -> {});
    recordBoth(next, "next");
    assertThat(answers(ledger)).isEqualTo(answers(oracle));
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
    assertThat(ledger.compact().foldedBefore()).isEqualTo(KEPT_FROM);
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
  }

  @Test
  void halfWrittenTemporaryFilesAreDeletedOnOpen() throws Exception {
    recordHistory();
    ledger.compact();
    ledger.close();
    Files.writeString(dir().resolve("totals.tmp"), "llmgw-spend-totals 2\n0000 {\"generation\"");
    Files.write(dir().resolve("journal.tmp"), new byte[100]);

    assertThat(answers(reopen())).isEqualTo(answers(oracle));
    assertThat(dir().resolve("totals.tmp")).doesNotExist();
    assertThat(dir().resolve("journal.tmp")).doesNotExist();
  }

  @Test
  void closingDuringACompactionStopsItAndLeavesTheFilesAsTheyWere() throws Exception {
    recordHistory();
    byte[] journal = Files.readAllBytes(journal());
    ledger.onCompactionStep(s -> {
      if (s == Step.JOURNAL_FILTERED) {
        ledger.close();
      }
    });

    assertThatThrownBy(ledger::compact)
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining("closed");

    assertThat(Files.readAllBytes(journal())).isEqualTo(journal);
    assertThat(Files.list(dir()).map(p -> p.getFileName().toString()))
        .containsExactlyInAnyOrder(FileSpendLedger.JOURNAL_FILE, FileSpendLedger.LOCK_FILE);
    assertThat(answers(reopen())).isEqualTo(answers(oracle));
  }

  @Test
  void compactionRunsByItselfOnceEnoughCanBeFoldedAndEveryAnswerStaysTheSame() throws Exception {
    ledger.close();
    ledger = open(dir(), new FileSpendLedger.Compaction(1, 20_000));
    Random random = new Random(42);
    List<Spend> sent = new ArrayList<>();
    long accepted = 0;
    for (int day = 0; day < 40; day++) {
      LocalDate today = TODAY.plusDays(day);
      clock.set(today.atTime(6, 0).toInstant(ZoneOffset.UTC));
      for (int b = 0; b < 6; b++) {
        List<Spend> batch = new ArrayList<>();
        for (int r = 0; r < 8; r++) {
          int kind = random.nextInt(10);
          if (kind == 0 && !sent.isEmpty()) {
            batch.add(
                sent.get(random.nextInt(sent.size()))); // a re-send, in the window or long before
          } else {
            LocalDate at = kind == 1 ? today.minusDays(random.nextInt(20)) : today; // late ones too
            batch.add(spend(
                "x" + day + "-" + b + "-" + r,
                at,
                "t" + random.nextInt(3),
                "k" + random.nextInt(2),
                "m" + random.nextInt(2),
                "0." + random.nextInt(1000) + "1",
                random.nextInt(3)));
          }
        }
        sent.addAll(batch);
        SpendLedger.Recorded expected = oracle.record(batch, "s");
        assertThat(ledger.record(batch, "s")).as("day %d batch %d", day, b).isEqualTo(expected);
        accepted += expected.accepted();
      }
      assertThat(answers(ledger)).as("day %d", day).isEqualTo(answers(oracle));
      if (day % 7 == 6) {
        ledger.close();
        ledger = open(dir(), new FileSpendLedger.Compaction(1, 20_000));
        assertThat(answers(ledger)).as("day %d, reopened", day).isEqualTo(answers(oracle));
        assertThat(ledger.rememberedIds()).isEqualTo(oracle.rememberedIds());
      }
    }
    assertThat(ledger.generation())
        .as("compactions that ran by themselves")
        .isGreaterThanOrEqualTo(5);
    assertThat((long) journalRecords(journal()).size())
        .as("records left in the journal, of %d", accepted)
        .isLessThan(accepted * 2 / 5);
  }

  @Test
  void theTotalsFileIsReadableByTheOwnerOnly() throws Exception {
    assumeTrue(dir().getFileSystem().supportedFileAttributeViews().contains("posix"));
    recordHistory();
    ledger.compact();

    for (String file : List.of(FileSpendLedger.TOTALS_FILE, FileSpendLedger.JOURNAL_FILE)) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(dir().resolve(file))))
          .as(file)
          .isEqualTo("rw-------");
    }
  }

  // --- damage ---

  @Test
  void aDamagedTotalsRowFailsTheOpenNamingFileAndOffset() throws Exception {
    Path totals = compacted();
    byte[] data = Files.readAllBytes(totals);
    String text = new String(data, StandardCharsets.UTF_8);
    int thirdRow = nthLineStart(text, 4);
    data[thirdRow + 30] ^= 0x02;
    Files.write(totals, data);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(
            totals + ": at offset " + thirdRow + ", line 4 is incomplete or fails its checksum")
        .hasMessageContaining("refusing to start");
    assertThat(Files.readAllBytes(totals)).isEqualTo(data);
  }

  @Test
  void aTotalsFileMissingItsLastRowsFailsTheOpen() throws Exception {
    Path totals = compacted();
    String text = Files.readString(totals);
    String cut = text.substring(0, nthLineStart(text, 5));
    Files.writeString(totals, cut);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(totals + ": at offset " + cut.length() + ", 2 rows holding")
        .hasMessageContaining("rows are missing or extra");
  }

  @Test
  void aTotalsRowWithAValidChecksumButABadValueFailsTheOpen() throws Exception {
    Path totals = compacted();
    String text = Files.readString(totals);
    int start = nthLineStart(text, 3);
    int end = nthLineStart(text, 4);
    String json = text.substring(start + 9, end - 1)
        .replaceFirst("\"cost_usd\":\"[0-9.]+\"", "\"cost_usd\":\"-1\"");
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(json.getBytes(StandardCharsets.UTF_8));
    Files.writeString(
        totals,
        text.substring(0, start)
            + String.format("%08x %s%n", crc.getValue(), json)
            + text.substring(end));

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(
            totals + ": at offset " + start + ", line 3 is not a valid row: cost_usd: \"-1\"");
  }

  @Test
  void aTotalsFileOfFormat1WithoutRouteAndProviderStillOpens() throws Exception {
    Path totals = compacted();
    StringBuilder v1 = new StringBuilder("llmgw-spend-totals 1\n");
    String[] lines = Files.readString(totals).split("\n");
    long folded = 0;
    for (int i = 1; i < lines.length; i++) {
      String json =
          lines[i].substring(9).replaceFirst("\"route\":\"[^\"]*\",\"provider\":\"[^\"]*\",", "");
      if (i >= 2) {
        folded += Long.parseLong(json.replaceFirst(".*\"requests\":([0-9]+).*", "$1"));
      }
      java.util.zip.CRC32 crc = new java.util.zip.CRC32();
      crc.update(json.getBytes(StandardCharsets.UTF_8));
      v1.append(String.format("%08x %s%n", crc.getValue(), json));
    }
    Files.writeString(totals, v1);
    LocalDate from = TODAY.minusDays(45);

    ledger = FileSpendLedger.open(dir(), clock);

    assertThat(folded).isPositive();
    assertThat(ledger.query(new SpendQuery(from, TODAY, Map.of(), List.of())))
        .isEqualTo(oracle.query(new SpendQuery(from, TODAY, Map.of(), List.of())));
    assertThat(ledger.query(new SpendQuery(
            from, TODAY, Map.of(Dimension.ROUTE, "", Dimension.PROVIDER, ""), List.of())))
        .as("folded before the ledger kept them: the route and provider are unknown")
        .singleElement()
        .extracting(r -> r.totals().requests())
        .isEqualTo(folded);
  }

  @Test
  void aTotalsFileOfAnotherFormatIsRefused() throws Exception {
    Path totals = compacted();
    Files.writeString(
        totals,
        Files.readString(totals).replaceFirst("llmgw-spend-totals 2", "llmgw-spend-totals 3"));

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(
            totals + ": at offset 0, does not start with the line 'llmgw-spend-totals 2'");
  }

  @Test
  void aJournalThatDoesNotBelongToTheTotalsIsRefused() throws Exception {
    recordHistory();
    Path old = tmp.resolve("journal-generation-0");
    Files.copy(journal(), old);
    ledger.compact();
    clock.set(NOW.plus(Duration.ofDays(2)));
    recordDay(TODAY.plusDays(2), "p2");
    ledger.compact();
    ledger.close();
    Files.copy(old, journal(), StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(
            journal() + ": generation 0, next to " + dir().resolve("totals") + " of generation 2")
        .hasMessageContaining("The files do not belong together");
  }

  @Test
  void aJournalMissingNextToTotalsIsRefused() throws Exception {
    compacted();
    Files.delete(journal());

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(journal() + ": missing, next to " + dir().resolve("totals"));
    assertThat(journal()).doesNotExist();
  }

  @Test
  void anOldJournalShorterThanTheTotalsSayIsRefused() throws Exception {
    recordHistory();
    Path old = tmp.resolve("journal-generation-0");
    ledger.onCompactionStep(s -> {
      if (s == Step.TOTALS_RENAMED) {
        copyWithoutLock(dir(), old);
      }
    });
    ledger.compact();
    ledger.close();
    Path journal = old.resolve(FileSpendLedger.JOURNAL_FILE);
    byte[] data = Files.readAllBytes(journal);
    String text = new String(data, StandardCharsets.UTF_8);
    int lastLine = text.lastIndexOf('\n', text.length() - 2) + 1;
    Files.write(journal, Arrays.copyOf(data, lastLine));

    assertThatThrownBy(() -> FileSpendLedger.open(old, clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(journal + ": " + lastLine + " bytes of valid lines, but "
            + old.resolve("totals") + " says it was folded up to offset " + data.length);
  }

  // --- helpers ---

  private Path journal() {
    return dir().resolve(FileSpendLedger.JOURNAL_FILE);
  }

  /** A closed ledger with {@link #recordHistory} compacted once; returns its totals file. */
  private Path compacted() throws IOException {
    recordHistory();
    ledger.compact();
    ledger.close();
    return dir().resolve(FileSpendLedger.TOTALS_FILE);
  }

  /**
   * {@value #DAYS} days of traffic up to today, recorded on the day it happened, each day with a late
   * record of ten days before; the clock ends at {@link SpendFixtures#NOW}. Returns the batches.
   */
  private List<List<Spend>> recordHistory() {
    List<List<Spend>> batches = new ArrayList<>();
    for (int i = DAYS - 1; i >= 0; i--) {
      LocalDate day = TODAY.minusDays(i);
      clock.set(day.atTime(12, 0).toInstant(ZoneOffset.UTC));
      batches.addAll(recordDay(day, "d" + (DAYS - 1 - i)));
    }
    clock.set(NOW);
    return batches;
  }

  /** Three batches of records of {@code day}, ids starting with {@code prefix}; the first with a late record. */
  private List<List<Spend>> recordDay(LocalDate day, String prefix) {
    int n = day.getDayOfYear();
    List<List<Spend>> batches = new ArrayList<>();
    String[] tenants = {"acme", "globex", ""};
    String[] models = {"gpt-4o", "claude"};
    String[] costs = {"0.000125", "1.5", "0.000000000001", "2", "0.10"};
    for (int b = 0; b < 3; b++) {
      List<Spend> batch = new ArrayList<>();
      for (int r = 0; r < 5; r++) {
        batch.add(spend(
            prefix + "-b" + b + "-r" + r,
            day,
            tenants[(b + r) % 3],
            "k" + (r % 2),
            models[(n + r) % 2],
            costs[(n + b + r) % costs.length],
            r));
      }
      if (b == 0) {
        batch.add(spend(prefix + "-late", day.minusDays(10), "acme", "k1", "gpt-4o", "0.333", 1));
      }
      recordBoth(batch, "ext-proc-" + b);
      batches.add(batch);
    }
    return batches;
  }

  /** Records {@code batch} in the file ledger and the oracle, which must answer alike. */
  private void recordBoth(List<Spend> batch, String source) {
    assertThat(ledger.record(batch, source))
        .as("recording %s", batch.get(0).id())
        .isEqualTo(oracle.record(batch, source));
    recorded.add(Map.entry(clock.instant(), batch));
  }

  /** A new in-memory ledger that got what {@link #oracle} got so far, each batch at its time. */
  private InMemorySpendLedger replica() {
    Instant now = clock.instant();
    InMemorySpendLedger copy = new InMemorySpendLedger(clock);
    for (var r : recorded) {
      clock.set(r.getKey());
      copy.record(r.getValue(), "replica");
    }
    clock.set(now);
    return copy;
  }

  private static Spend spend(
      String id, LocalDate day, String tenant, String key, String model, String cost, int n) {
    return Spend.from(
        SpendFixtures.record(id, day, tenant, key, model, cost)
            .setApplication("app-" + n)
            .setUser("user-" + n)
            // One route served by two providers, so the totals keep them apart.
            .setProvider(n % 2 == 0 ? "primary" : "secondary")
            .setEstimated(n % 3 == 2)
            .setInputTokens(100 + n)
            .setOutputTokens(7 * n)
            .build(),
        "");
  }

  private static List<SpendQuery> queries() {
    LocalDate from = TODAY.minusDays(45);
    LocalDate to = TODAY.plusDays(45);
    return List.of(
        new SpendQuery(from, to, Map.of(), SpendQuery.allDimensions()),
        new SpendQuery(from, to, Map.of(), List.of()),
        new SpendQuery(from, to, Map.of(), List.of(Dimension.DAY)),
        new SpendQuery(from, to, Map.of(), List.of(Dimension.TENANT, Dimension.MODEL)),
        new SpendQuery(
            from,
            to,
            Map.of(Dimension.PROVIDER, "secondary"),
            List.of(Dimension.DAY, Dimension.ROUTE, Dimension.PROVIDER)),
        new SpendQuery(
            from,
            to,
            Map.of(SpendQuery.Dimension.TENANT, "acme"),
            List.of(Dimension.DAY, Dimension.API_KEY_ID)),
        new SpendQuery(
            from,
            to,
            Map.of(SpendQuery.Dimension.TENANT, "", SpendQuery.Dimension.MODEL, "claude"),
            List.of(Dimension.DAY)),
        new SpendQuery(
            TODAY.minusDays(9),
            TODAY.minusDays(7),
            Map.of(SpendQuery.Dimension.API_KEY_ID, "k1"),
            SpendQuery.allDimensions()));
  }

  private static List<List<SpendRow>> answers(SpendLedger ledger) {
    return queries().stream().map(ledger::query).toList();
  }

  private static List<Spend> journalRecords(Path journal) throws IOException {
    List<String> lines = Files.readAllLines(journal);
    List<Spend> records = new ArrayList<>();
    for (String line : lines.subList(2, lines.size())) {
      byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
      assertThat(JournalCodec.intact(bytes, bytes.length)).as(line).isTrue();
      records.addAll(JournalCodec.parse(bytes, bytes.length).records());
    }
    return records;
  }

  /** The offset of line {@code n} (1-based). */
  private static int nthLineStart(String text, int n) {
    int at = 0;
    for (int i = 1; i < n; i++) {
      at = text.indexOf('\n', at) + 1;
    }
    return at;
  }

  private static void copyWithoutLock(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().equals(FileSpendLedger.LOCK_FILE)) {
          Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
