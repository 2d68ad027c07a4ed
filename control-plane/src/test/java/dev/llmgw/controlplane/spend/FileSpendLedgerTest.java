package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static dev.llmgw.controlplane.spend.SpendFixtures.batch;
import static dev.llmgw.controlplane.spend.SpendFixtures.spend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FileSpendLedgerTest extends SpendLedgerContract {

  @Override
  SpendLedger newLedger(Path dir, SpendFixtures.MutableClock clock) {
    return FileSpendLedger.open(dir, clock);
  }

  private Path dir() {
    return tmp.resolve("spend");
  }

  private Path journal() {
    return dir().resolve(FileSpendLedger.JOURNAL_FILE);
  }

  private SpendLedger reopen() {
    ledger.close();
    ledger = FileSpendLedger.open(dir(), clock);
    return ledger;
  }

  @Test
  void aReopenedLedgerHasTheSameTotals() {
    ledger.record(batch("a", 3, "0.000012500000"), "ext-proc-1");
    ledger.record(
        List.of(spend("x", TODAY.minusDays(3), "globex", "k9", "claude-haiku-4-5", "7.25")),
        "ext-proc-2");
    List<SpendRow> before = ledger.query(all(TODAY.minusDays(10), TODAY));

    List<SpendRow> after = reopen().query(all(TODAY.minusDays(10), TODAY));

    assertThat(after).isEqualTo(before);
    assertThat(after).hasSize(2);
    assertThat(after.get(1).totals().costUsd()).isEqualByComparingTo("0.0000375");
  }

  @Test
  void duplicatesAreRecognisedAfterARestart() {
    ledger.record(batch("a", 5, "1"), "test");

    SpendLedger.Recorded again = reopen().record(batch("a", 6, "1"), "test");

    assertThat(again).isEqualTo(new SpendLedger.Recorded(1, 5));
    assertThat(reopen().query(total(TODAY, TODAY)).get(0).totals().requests()).isEqualTo(6);
    assertThat(((FileSpendLedger) ledger).rememberedIds()).isEqualTo(6);
  }

  @Test
  void theJournalIsOneCheckedJsonLinePerBatchWithTheRecordsThatWereNew() throws Exception {
    ledger.record(batch("a", 2, "0.5"), "ext-proc-1");
    ledger.record(batch("a", 3, "0.5"), "ext-proc-2");
    ledger.record(batch("a", 3, "0.5"), "ext-proc-2");

    List<String> lines = Files.readAllLines(journal());
    assertThat(lines).hasSize(4).first().isEqualTo("llmgw-spend-journal 2");
    assertThat(lines.get(1))
        .as("the generation line")
        .matches("[0-9a-f]{8} \\{\"generation\":0\\}");
    assertThat(lines.get(2)).matches("[0-9a-f]{8} \\{.*\\}");
    JsonNode second = new ObjectMapper().readTree(lines.get(3).substring(9));
    assertThat(second.get("source").asText()).isEqualTo("ext-proc-2");
    assertThat(second.get("received_at_millis").asLong())
        .isEqualTo(SpendFixtures.NOW.toEpochMilli());
    assertThat(second.get("records")).singleElement().satisfies(r -> {
      assertThat(r.get("id").asText()).isEqualTo("a-2");
      assertThat(r.get("cost_usd").isTextual()).as("costs stay exact decimals").isTrue();
      assertThat(r.get("cost_usd").asText()).isEqualTo("0.5");
      assertThat(r.get("api_key_id").asText()).isEqualTo("key-1");
    });
  }

  @Test
  void aJournalOfFormatOneFromBeforeCompactionIsReadAsGenerationZero() throws Exception {
    ledger.close();
    Files.write(
        journal(),
        concat(
            JournalCodec.HEADER_V1_BYTES,
            concat(
                JournalCodec.line(1, "old", batch("a", 2, "0.25")),
                JournalCodec.line(2, "old", batch("b", 1, "0.5")))));

    assertThat(reopen().query(total(TODAY, TODAY)).get(0).totals().costUsd())
        .isEqualByComparingTo("1");
    assertThat(ledger.record(batch("a", 3, "0.25"), "new"))
        .isEqualTo(new SpendLedger.Recorded(1, 2));
    assertThat(reopen().query(total(TODAY, TODAY)).get(0).totals().requests()).isEqualTo(4);
    assertThat(Files.readAllLines(journal()).get(0))
        .as("appended to as it is")
        .isEqualTo("llmgw-spend-journal 1");
  }

  static Stream<Arguments> tornTails() {
    byte[] line = JournalCodec.line(1, "torn", List.of(spend("torn", "100")));
    byte[] badCrc = line.clone();
    badCrc[0] = (byte) (badCrc[0] == '0' ? '1' : '0');
    byte[] flipped = line.clone();
    flipped[40] ^= 0x01;
    return Stream.of(
        Arguments.of("half a line", Arrays.copyOf(line, line.length / 2)),
        Arguments.of("all but the newline", Arrays.copyOf(line, line.length - 1)),
        Arguments.of("a few bytes", Arrays.copyOf(line, 5)),
        Arguments.of("a wrong checksum", badCrc),
        Arguments.of("a flipped bit", flipped),
        Arguments.of("zeros", new byte[4096]),
        Arguments.of("a line then zeros", concat(Arrays.copyOf(line, 30), new byte[100])),
        Arguments.of(
            "garbage with newlines", "}{ not\n a batch\n".getBytes(StandardCharsets.UTF_8)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tornTails")
  void aTornLastLineIsCutOffAndTheRestKept(String what, byte[] tail) throws Exception {
    ledger.record(batch("a", 3, "1"), "test");
    ledger.close();
    long good = Files.size(journal());
    Files.write(journal(), tail, StandardOpenOption.APPEND);

    ledger = FileSpendLedger.open(dir(), clock);

    assertThat(Files.size(journal())).isEqualTo(good);
    assertThat(ledger.query(total(TODAY, TODAY)).get(0).totals().costUsd())
        .isEqualByComparingTo("3");
    ledger.record(List.of(spend("after", "1")), "test");
    assertThat(reopen().query(total(TODAY, TODAY)).get(0).totals().costUsd())
        .isEqualByComparingTo("4");
    assertThat(ledger.record(List.of(spend("torn", "100")), "test").accepted())
        .as("the torn batch was never acknowledged, so its sender sends it again and it counts")
        .isEqualTo(1);
  }

  @Test
  void aWholeLastLineThatFailsItsChecksumIsCutButItsBytesAreKeptBesideTheJournal()
      throws Exception {
    ledger.record(batch("a", 2, "1"), "test");
    long damagedAt = Files.size(journal());
    ledger.record(batch("b", 1, "5"), "test");
    ledger.close();
    byte[] data = Files.readAllBytes(journal());
    data[(int) damagedAt + 30] ^= 0x01; // an acknowledged line, damaged on disk
    Files.write(journal(), data);
    byte[] damagedLine = Arrays.copyOfRange(data, (int) damagedAt, data.length);

    ledger = FileSpendLedger.open(dir(), clock);

    assertThat(Files.size(journal())).isEqualTo(damagedAt);
    assertThat(ledger.query(total(TODAY, TODAY)).get(0).totals().costUsd())
        .isEqualByComparingTo("2");
    try (Stream<Path> files = Files.list(journal().getParent())) {
      List<Path> kept = files
          .filter(f -> f.getFileName().toString().startsWith(journal().getFileName() + ".cut-"))
          .toList();
      assertThat(kept).hasSize(1);
      assertThat(Files.readAllBytes(kept.get(0)))
          .as("the damaged line's bytes, exactly")
          .isEqualTo(damagedLine);
    }
  }

  @Test
  void anIncompleteLastLineIsCutWithoutKeepingIt() throws Exception {
    ledger.record(batch("a", 1, "1"), "test");
    ledger.close();
    byte[] line = JournalCodec.line(1, "torn", List.of(spend("torn", "100")));
    Files.write(journal(), Arrays.copyOf(line, line.length - 1), StandardOpenOption.APPEND);

    ledger = FileSpendLedger.open(dir(), clock);

    try (Stream<Path> files = Files.list(journal().getParent())) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .noneMatch(name -> name.contains(".cut-"));
    }
  }

  @Test
  void damageBeforeAValidLineFailsTheOpenAndTouchesNothing() throws Exception {
    ledger.record(batch("a", 1, "1"), "test");
    long damagedAt = Files.size(journal());
    ledger.record(batch("b", 1, "1"), "test");
    ledger.record(batch("c", 1, "1"), "test");
    ledger.close();
    byte[] data = Files.readAllBytes(journal());
    data[(int) damagedAt + 20] ^= 0x01;
    Files.write(journal(), data);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(journal().toString())
        .hasMessageContaining("damaged line at offset " + damagedAt)
        .hasMessageContaining("refusing to start rather than drop acknowledged spend");
    assertThat(Files.readAllBytes(journal())).isEqualTo(data);
  }

  @Test
  void aLineWithAValidChecksumThatHoldsNoBatchFailsTheOpen() throws Exception {
    ledger.close();
    String json =
        "{\"received_at_millis\":1,\"records\":[{\"id\":\"x\",\"at_epoch_millis\":1,\"cost_usd\":\"-1\"}]}";
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(json.getBytes(StandardCharsets.UTF_8));
    Files.writeString(
        journal(), String.format("%08x %s%n", crc.getValue(), json), StandardOpenOption.APPEND);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining("has a valid checksum but does not hold a batch")
        .hasMessageContaining("records[0].cost_usd");
  }

  @Test
  void aJournalOfAnotherFormatIsRefused() throws Exception {
    ledger.close();
    Files.writeString(journal(), "llmgw-spend-journal 3\n");

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining("does not start with the line 'llmgw-spend-journal 2'")
        .hasMessageContaining("or of format 1");
  }

  @Test
  void aDamagedGenerationLineFailsTheOpen() throws Exception {
    ledger.record(batch("a", 1, "1"), "test");
    ledger.close();
    byte[] data = Files.readAllBytes(journal());
    int generationDigit = JournalCodec.HEADER_BYTES.length + 9 + "{\"generation\":".length();
    assertThat((char) data[generationDigit]).isEqualTo('0');
    data[generationDigit] = '1';
    Files.write(journal(), data);

    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining(journal() + ": the generation line at offset "
            + JournalCodec.HEADER_BYTES.length + " is incomplete or fails its checksum");
    assertThat(Files.readAllBytes(journal())).isEqualTo(data);
  }

  @Test
  void aDirectoryIsOpenOnceAtATime() {
    assertThatThrownBy(() -> FileSpendLedger.open(dir(), clock))
        .isInstanceOf(SpendLedgerException.class)
        .hasMessageContaining("already open in this process");
    ledger.close();
    ledger = FileSpendLedger.open(dir(), clock);
  }

  @Test
  void anInterruptedWriterStoresNothingAndTheLedgerStaysWritable() {
    ledger.record(batch("a", 1, "1"), "test");
    Thread.currentThread().interrupt(); // closes a FileChannel on its next operation
    try {
      assertThatThrownBy(() -> ledger.record(batch("b", 1, "1"), "test"))
          .isInstanceOf(SpendLedgerException.class)
          .hasMessageContaining("was interrupted; the batch was not stored");
      assertThat(Thread.currentThread().isInterrupted())
          .as("interrupt status kept")
          .isTrue();
    } finally {
      Thread.interrupted();
    }

    assertThat(ledger.query(total(TODAY, TODAY)).get(0).totals().requests()).isEqualTo(1);
    assertThat(ledger.record(batch("b", 1, "1"), "test").accepted()).isEqualTo(1);
    assertThat(reopen().query(total(TODAY, TODAY)).get(0).totals().requests()).isEqualTo(2);
  }

  @Test
  void filesAreReadableByTheOwnerOnly() throws Exception {
    assumeTrue(dir().getFileSystem().supportedFileAttributeViews().contains("posix"));
    ledger.record(batch("a", 1, "1"), "test");

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir())))
        .isEqualTo("rwx------");
    for (String file : List.of(FileSpendLedger.JOURNAL_FILE, FileSpendLedger.LOCK_FILE)) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(dir().resolve(file))))
          .as(file)
          .isEqualTo("rw-------");
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
