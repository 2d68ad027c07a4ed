package dev.llmgw.extproc.spend;

import static dev.llmgw.extproc.spend.SpendReporterTest.ids;
import static dev.llmgw.extproc.spend.SpendReporterTest.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.llmgw.proto.spend.v1.SpendRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpendSpoolTest {

  private static final long MAX = 64L * 1024 * 1024;

  @TempDir
  Path dir;

  private SpendSpool open(long compactBytes) throws IOException {
    return SpendSpool.open(dir, MAX, compactBytes);
  }

  private static List<SpendRecord> records(String prefix, int n) {
    return ids(prefix, n).stream().map(SpendReporterTest::record).toList();
  }

  private static List<String> idsOf(SpendSpool.Chunk chunk) {
    return chunk.records().stream().map(SpendRecord::getId).toList();
  }

  private Path spoolFile() {
    return dir.resolve(SpendSpool.SPOOL_FILE);
  }

  @Test
  void onlyWhatWasNotAcknowledgedIsReadAgainAfterAReopen() throws Exception {
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(spool.append(records("a", 5))).isEqualTo(5);
      SpendSpool.Chunk first = spool.read(3);
      assertThat(idsOf(first)).containsExactly("a-0", "a-1", "a-2");
      spool.ack(first.end(), 3);
      assertThat(spool.pending()).isEqualTo(2);
      assertThat(spool.append(records("b", 1))).isEqualTo(1);
    }
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(spool.pending()).isEqualTo(3);
      assertThat(idsOf(spool.read(10))).containsExactly("a-3", "a-4", "b-0");
    }
  }

  @Test
  void theAcknowledgedPrefixIsDroppedOnceLargeAndTheRestKept() throws Exception {
    try (SpendSpool spool = open(1000)) {
      spool.append(records("a", 40));
      SpendSpool.Chunk chunk = spool.read(30);
      long before = Files.size(spoolFile());
      spool.ack(chunk.end(), 30);
      assertThat(Files.size(spoolFile())).isLessThan(before / 2);
      assertThat(spool.pending()).isEqualTo(10);
      assertThat(idsOf(spool.read(100))).isEqualTo(ids("a", 40).subList(30, 40));
      spool.append(records("b", 2));
    }
    try (SpendSpool spool = open(1000)) {
      assertThat(spool.pending()).isEqualTo(12);
      spool.append(records("c", 20));
      SpendSpool.Chunk all = spool.read(100);
      assertThat(all.records()).hasSize(32);
      spool.ack(all.end(), 32);
      assertThat(Files.size(spoolFile()))
          .as("an empty spool after everything was acknowledged")
          .isEqualTo(SpendSpool.HEADER_BYTES);
    }
  }

  @Test
  void theSpoolAndItsDirectoryAreOwnerOnly() throws Exception {
    assumeThat(dir.getFileSystem().supportedFileAttributeViews()).contains("posix");
    Path spoolDir = dir.resolve("spend");
    try (SpendSpool spool = SpendSpool.open(spoolDir, MAX, 1000)) {
      spool.append(records("a", 40));
      SpendSpool.Chunk chunk = spool.read(30);
      spool.ack(chunk.end(), 30); // compacts: a new spool file of the next generation
    }
    assertThat(permissions(spoolDir)).isEqualTo("rwx------");
    try (Stream<Path> files = Files.list(spoolDir)) {
      assertThat(files)
          .extracting(SpendSpoolTest::permissions)
          .hasSize(3) // spool, acked, lock
          .containsOnly("rw-------");
    }
  }

  private static String permissions(Path path) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void anAckedFileOfAnotherGenerationMeansEverythingIsSentAgain() throws Exception {
    String staleAcked;
    try (SpendSpool spool = open(1000)) {
      spool.append(records("a", 40));
      spool.ack(spool.read(5).end(), 5);
      staleAcked = Files.readString(dir.resolve(SpendSpool.ACKED_FILE));
      spool.ack(spool.read(25).end(), 25); // compacts: generation + 1
    }
    // A crash between the new spool's rename and the acked file's: the acked file still names the
    // old one.
    Files.writeString(dir.resolve(SpendSpool.ACKED_FILE), staleAcked);

    try (SpendSpool spool = open(1000)) {
      assertThat(spool.pending())
          .as("the 10 records the new spool holds, none skipped")
          .isEqualTo(10);
      assertThat(idsOf(spool.read(100))).isEqualTo(ids("a", 40).subList(30, 40));
    }
  }

  @Test
  void anAckedFileThatMakesNoSenseMeansEverythingIsSentAgain() throws Exception {
    long generation;
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      spool.append(records("a", 4));
      spool.ack(spool.read(2).end(), 2);
      generation =
          Long.parseLong(Files.readString(dir.resolve(SpendSpool.ACKED_FILE)).split(" ")[0]);
    }
    for (String acked : List.of("garbage", "", generation + " 17", generation + " 999999")) {
      Files.writeString(dir.resolve(SpendSpool.ACKED_FILE), acked);
      try (SpendSpool spool = open(Long.MAX_VALUE)) {
        assertThat(spool.pending()).as(acked).isEqualTo(4);
      }
    }
    Files.delete(dir.resolve(SpendSpool.ACKED_FILE));
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(spool.pending()).isEqualTo(4);
    }
  }

  static Stream<Arguments> tornTails() throws Exception {
    SpendRecord r = record("torn");
    byte[] payload = r.toByteArray();
    java.nio.ByteBuffer frame =
        java.nio.ByteBuffer.allocate(8 + payload.length).putInt(payload.length);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(payload);
    frame.putInt((int) crc.getValue()).put(payload);
    byte[] whole = frame.array();
    byte[] badCrc = whole.clone();
    badCrc[5] ^= 0x01;
    return Stream.of(
        Arguments.of("half a frame", Arrays.copyOf(whole, whole.length / 2)),
        Arguments.of("part of a frame header", Arrays.copyOf(whole, 3)),
        Arguments.of("a wrong checksum", badCrc),
        Arguments.of("zeros", new byte[2048]));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tornTails")
  void aTornTailIsCutOff(String what, byte[] tail) throws Exception {
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      spool.append(records("a", 3));
    }
    long good = Files.size(spoolFile());
    Files.write(spoolFile(), tail, StandardOpenOption.APPEND);

    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(Files.size(spoolFile())).isEqualTo(good);
      assertThat(spool.pending()).isEqualTo(3);
      spool.append(records("b", 1));
      assertThat(idsOf(spool.read(10))).containsExactly("a-0", "a-1", "a-2", "b-0");
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("damaged"));
    }
  }

  @Test
  void damageBeforeValidRecordsKeepsWhatComesBeforeItAndCopiesTheFileAside() throws Exception {
    long damagedAt;
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      spool.append(records("a", 2));
      damagedAt = spool.size();
      spool.append(records("b", 3));
    }
    byte[] data = Files.readAllBytes(spoolFile());
    data[(int) damagedAt + 12] ^= 0x01;
    Files.write(spoolFile(), data);

    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(idsOf(spool.read(10))).containsExactly("a-0", "a-1");
    }
    try (Stream<Path> files = Files.list(dir)) {
      Path aside = files
          .filter(p -> p.getFileName().toString().startsWith(SpendSpool.SPOOL_FILE + ".damaged-"))
          .findFirst()
          .orElseThrow();
      assertThat(Files.readAllBytes(aside)).isEqualTo(data);
    }
  }

  @Test
  void aFileThatIsNoSpoolIsMovedAsideAndANewSpoolStarted() throws Exception {
    Files.writeString(spoolFile(), "something else entirely", StandardCharsets.US_ASCII);

    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThat(spool.pending()).isZero();
      spool.append(records("a", 1));
      assertThat(spool.pending()).isEqualTo(1);
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith(SpendSpool.SPOOL_FILE + ".damaged-"));
    }
  }

  @Test
  void aFullSpoolTakesWhatFitsAndRefusesTheRest() throws Exception {
    int one = 8 + record("a-0").getSerializedSize();
    try (SpendSpool spool =
        SpendSpool.open(dir, SpendSpool.HEADER_BYTES + 3L * one, Long.MAX_VALUE)) {
      assertThat(spool.append(records("a", 5))).isEqualTo(3);
      assertThat(spool.append(records("b", 1))).isZero();
      spool.ack(spool.read(3).end(), 3);
      assertThat(spool.pending()).isZero();
    }
  }

  @Test
  void aSpoolIsOpenOnceAtATime() throws Exception {
    try (SpendSpool spool = open(Long.MAX_VALUE)) {
      assertThatThrownBy(() -> open(Long.MAX_VALUE))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("already open in this process");
    }
    open(Long.MAX_VALUE).close();
  }
}
