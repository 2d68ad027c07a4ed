package dev.llmgw.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FileConfigStoreTest extends ConfigStoreContract {

  @Override
  ConfigStore newStore(Path dir) {
    return FileConfigStore.open(dir);
  }

  private Path dir() {
    return tmp.resolve("store");
  }

  private Path journal() {
    return dir().resolve(FileConfigStore.JOURNAL_FILE);
  }

  private Path snapshot() {
    return dir().resolve(FileConfigStore.SNAPSHOT_FILE);
  }

  /** Writes {@code count} providers p1..pN, one commit each, and closes the store. */
  private StoreState writeAndClose(int count) throws ConflictException {
    StoreState state = store.state();
    for (int i = 1; i <= count; i++) {
      state = store.apply(Change.create(PROVIDERS, "p" + i, body(i)));
    }
    store.close();
    return state;
  }

  @Test
  void committedStateSurvivesReopenWithItsVersionsAndRevisions() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));
    store.applyAll(
        List.of(Change.create(PROVIDERS, "b", body(2)), Change.create(ROUTES, "r", body(3))));
    store.apply(Change.put(PROVIDERS, "a", body(4), 1));
    StoreState before = store.apply(Change.delete(PROVIDERS, "b", 2));
    store.close();

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(before);
      assertThat(reopened.state().get(PROVIDERS, "a").orElseThrow().revision()).isEqualTo(3);
      assertThat(reopened.apply(Change.create(PROVIDERS, "c", body(5))).version())
          .isEqualTo(before.version() + 1);
    }
    try (FileConfigStore again = FileConfigStore.open(dir())) {
      assertThat(again.state().version()).isEqualTo(before.version() + 1);
      assertThat(again.state().get(PROVIDERS, "c")).isPresent();
    }
  }

  @Test
  void bodiesReadTheSameBeforeAndAfterARestart() throws Exception {
    ObjectNode typed =
        JSON.createObjectNode().put("long", 5L).put("float", 0.5f).put("short", (short) 2);
    typed.putArray("list").add(3L).add(new java.math.BigDecimal("0.0000025"));
    StoreState written = store.apply(Change.put(PROVIDERS, "a", typed));
    ((FileConfigStore) store).compact();
    store.apply(Change.put(ROUTES, "r", typed));
    StoreState before = store.state();
    store.close();

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(before); // one from the snapshot, one from the journal
      assertThat(written.get(PROVIDERS, "a").orElseThrow().body())
          .isEqualTo(JSON.readTree("{\"long\":5,\"float\":0.5,\"short\":2,\"list\":[3,2.5E-6]}"));
    }
  }

  @Test
  void compactsPastTheRecordLimitAndReopensFromSnapshotPlusJournal() throws Exception {
    store.close();
    StoreState before;
    try (FileConfigStore small =
        FileConfigStore.open(dir(), new FileConfigStore.Compaction(5, Long.MAX_VALUE))) {
      for (int i = 1; i <= 12; i++) {
        small.apply(Change.put(PROVIDERS, "p" + (i % 4), body(i)));
      }
      before = small.apply(Change.delete(PROVIDERS, "p0"));
    }

    assertThat(snapshot()).exists();
    assertThat(RecordFile.scan(journal(), RecordFile.JOURNAL_MAGIC, Files.readAllBytes(journal()))
            .frames())
        .hasSize(3); // 13 commits; compacted after the 5th and the 10th
    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(before);
      assertThat(reopened.apply(Change.create(PROVIDERS, "p0", body(0))).version())
          .isEqualTo(14);
    }
  }

  @Test
  void compactsPastTheByteLimit() throws Exception {
    store.close();
    try (FileConfigStore small =
        FileConfigStore.open(dir(), new FileConfigStore.Compaction(1000, 4096))) {
      for (int i = 1; i <= 20; i++) {
        small.apply(Change.put(PROVIDERS, "p" + i, body(i).put("padding", "x".repeat(500))));
      }
    }

    assertThat(Files.size(journal())).isLessThan(4096 + 1024);
    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(20);
      assertThat(reopened.state().list(PROVIDERS)).hasSize(20);
    }
  }

  @Test
  void recoversFromACrashBetweenSnapshotRenameAndJournalReset() throws Exception {
    store.close();
    Path oldJournal = tmp.resolve("journal-before-compaction");
    StoreState compacted;
    try (FileConfigStore s = FileConfigStore.open(dir())) {
      for (int i = 1; i <= 10; i++) {
        s.apply(Change.create(PROVIDERS, "p" + i, body(i)));
      }
      compacted = s.state();
      Files.copy(journal(), oldJournal);
      s.compact();
    }
    // The crash: the new snapshot is in place, the journal still holds the records it covers.
    Files.copy(oldJournal, journal(), StandardCopyOption.REPLACE_EXISTING);

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(compacted);
      assertThat(reopened.apply(Change.create(PROVIDERS, "p11", body(11))).version())
          .isEqualTo(11);
    }
    try (FileConfigStore again = FileConfigStore.open(dir())) {
      assertThat(again.state().version()).isEqualTo(11);
      assertThat(again.state().list(PROVIDERS)).hasSize(11);
    }
  }

  @Test
  void startsANewJournalWhenEveryRecordIsOlderThanTheSnapshot() throws Exception {
    store.close();
    Path staleJournal = tmp.resolve("stale-journal");
    try (FileConfigStore s = FileConfigStore.open(dir())) {
      for (int i = 1; i <= 5; i++) {
        s.apply(Change.create(PROVIDERS, "p" + i, body(i)));
      }
      Files.copy(journal(), staleJournal);
      s.apply(Change.create(PROVIDERS, "p6", body(6)));
      s.compact();
    }
    Files.copy(
        staleJournal, journal(), StandardCopyOption.REPLACE_EXISTING); // ends at 5, snapshot at 6

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(6);
      reopened.apply(Change.create(PROVIDERS, "p7", body(7)));
    }
    try (FileConfigStore again = FileConfigStore.open(dir())) {
      assertThat(again.state().version()).isEqualTo(7);
      assertThat(again.state().list(PROVIDERS)).hasSize(7);
    }
  }

  @Test
  void ignoresTheTemporaryFilesOfAnInterruptedCompaction() throws Exception {
    StoreState before = writeAndClose(3);
    Path snapshotTmp = dir().resolve(FileConfigStore.SNAPSHOT_FILE + FileConfigStore.TMP_SUFFIX);
    Path journalTmp = dir().resolve(FileConfigStore.JOURNAL_FILE + FileConfigStore.TMP_SUFFIX);
    Files.write(snapshotTmp, new byte[] {'L', 'G', 'W'});
    Files.write(journalTmp, new byte[0]);

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(before);
    }
    assertThat(snapshotTmp).doesNotExist();
    assertThat(journalTmp).doesNotExist();
  }

  static Stream<Arguments> tornTails() {
    byte[] nextRecord = frame(StoreCodec.entry(6, List.of(Change.put(PROVIDERS, "p6", body(6)))));
    byte[] garbage = new byte[300]; // its first 4 bytes, as a length, say more than the file has
    new Random(42).nextBytes(garbage);
    return Stream.of(
        Arguments.of("half a record", Arrays.copyOf(nextRecord, nextRecord.length / 2)),
        Arguments.of("part of a record header", Arrays.copyOf(nextRecord, 3)),
        Arguments.of(
            "a whole record but the last byte", Arrays.copyOf(nextRecord, nextRecord.length - 1)),
        Arguments.of("random garbage", garbage),
        Arguments.of("zeros, as after a crash that extended the file", new byte[4096]));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tornTails")
  void tornTailIsCutOffAndEveryEarlierRecordSurvives(String tail, byte[] bytes) throws Exception {
    StoreState before = writeAndClose(5);
    long intact = Files.size(journal());
    Files.write(journal(), bytes, StandardOpenOption.APPEND);

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state()).isEqualTo(before);
      assertThat(Files.size(journal())).isEqualTo(intact);
      assertThat(reopened.apply(Change.create(PROVIDERS, "p6", body(6))).version())
          .isEqualTo(6);
    }
    try (FileConfigStore again = FileConfigStore.open(dir())) {
      assertThat(again.state().version()).isEqualTo(6);
      assertThat(again.state().get(PROVIDERS, "p6").orElseThrow().body()).isEqualTo(body(6));
    }
  }

  /** Issue 18, finding 8: the last 4 bytes of an acknowledged record overwritten. */
  @Test
  void anAcknowledgedLastRecordWithItsLastFourBytesOverwrittenIsRefusedNotCutOff()
      throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    long last = lastRecordOffset(data);
    try (var ch = java.nio.channels.FileChannel.open(journal(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {'x', 'x', 'x', 'x'}), data.length - 4);
    }
    byte[] damaged = Files.readAllBytes(journal());

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": the record at offset " + last + " is complete")
        .hasMessageContaining("fails its CRC32 check")
        .hasMessageContaining("may hold an acknowledged change (version 5)")
        .hasMessageContaining("Refusing to start")
        .hasMessageContaining("'truncate -s " + last + " " + journal() + "'");
    assertThat(Files.readAllBytes(journal())).isEqualTo(damaged);
    // Refused again on the next try: nothing was repaired behind the operator's back.
    assertThatThrownBy(() -> FileConfigStore.open(dir())).isInstanceOf(StoreException.class);
    assertThat(Files.readAllBytes(journal())).isEqualTo(damaged);
  }

  @Test
  void aCompleteRecordWithABadChecksumAfterTheLastAcknowledgedOneIsRefusedToo() throws Exception {
    writeAndClose(5);
    byte[] next = frame(StoreCodec.entry(6, List.of(Change.put(PROVIDERS, "p6", body(6)))));
    next[5] ^= 0x01;
    long offset = Files.size(journal());
    Files.write(journal(), next, StandardOpenOption.APPEND);
    byte[] damaged = Files.readAllBytes(journal());

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": the record at offset " + offset + " is complete");
    assertThat(Files.readAllBytes(journal())).isEqualTo(damaged);
  }

  @Test
  void theVersionOfARecordTheOperatorCutOutIsNeverHandedOutAgain() throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    long last = lastRecordOffset(data);
    data[data.length - 1] ^= 0x20;
    Files.write(journal(), data);
    assertThatThrownBy(() -> FileConfigStore.open(dir())).isInstanceOf(StoreException.class);

    // The operator's recovery, as the message says: drop the damaged record.
    try (var ch = java.nio.channels.FileChannel.open(journal(), StandardOpenOption.WRITE)) {
      ch.truncate(last);
    }

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version())
          .as("moved up to the high-water mark")
          .isEqualTo(5);
      assertThat(reopened.state().get(PROVIDERS, "p5")).isEmpty();
      assertThat(reopened.state().list(PROVIDERS)).hasSize(4);
      StoreState next = reopened.apply(Change.create(PROVIDERS, "p5", body(50)));
      assertThat(next.version()).isEqualTo(6);
      assertThat(next.get(PROVIDERS, "p5").orElseThrow().revision()).isEqualTo(6);
    }
    try (FileConfigStore again = FileConfigStore.open(dir())) {
      assertThat(again.state().version()).isEqualTo(6);
      assertThat(again.state().get(PROVIDERS, "p5").orElseThrow().body()).isEqualTo(body(50));
      assertThat(again.apply(Change.create(PROVIDERS, "p6", body(6))).version()).isEqualTo(7);
    }
  }

  @Test
  void versionsCutOffAtARecordBoundaryAreNotReusedEither() throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    List<Long> offsets = recordOffsets(data);
    Files.write(journal(), Arrays.copyOf(data, offsets.get(3).intValue())); // versions 4 and 5 gone

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(5);
      assertThat(reopened.state().list(PROVIDERS)).hasSize(3);
      assertThat(reopened.apply(Change.create(PROVIDERS, "p4", body(40))).version())
          .isEqualTo(6);
    }
  }

  @Test
  void anAcknowledgedRecordCutInHalfIsRefusedThoughItLooksTorn() throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    long last = lastRecordOffset(data);
    byte[] cut = Arrays.copyOf(data, (int) (last + (data.length - last) / 2));
    Files.write(journal(), cut);

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": ends in an incomplete record at offset " + last)
        .hasMessageContaining("says version 5 was acknowledged")
        .hasMessageContaining("'truncate -s " + last + " " + journal() + "'");
    assertThat(Files.readAllBytes(journal())).isEqualTo(cut);
  }

  @Test
  void aStoreWithoutAHighWaterFileGetsOneAtItsVersion() throws Exception {
    writeAndClose(3);
    Files.delete(dir().resolve(HighWaterMark.FILE));

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(3);
    }
    assertThat(dir().resolve(HighWaterMark.FILE)).exists();
    // The recreated mark protects version 3 from now on.
    byte[] data = Files.readAllBytes(journal());
    Files.write(journal(), Arrays.copyOf(data, lastRecordOffset(data).intValue()));
    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(3);
      assertThat(reopened.apply(Change.create(PROVIDERS, "p3", body(30))).version())
          .isEqualTo(4);
    }
  }

  @Test
  void aHighWaterFileWithNoValidSlotIsRefused() throws Exception {
    writeAndClose(2);
    Path file = dir().resolve(HighWaterMark.FILE);
    byte[] data = Files.readAllBytes(file);
    data[RecordFile.HEADER_BYTES + 7] ^= 0x01; // first slot's version
    data[data.length - 1] ^= 0x01; // second slot's checksum
    Files.write(file, data);

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(file + ": neither of its two slots passes its checksum");
  }

  @Test
  void damageBeforeTheLastRecordFailsLoudlyNamingFileAndOffset() throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    long second = recordOffsets(data).get(1);
    data[(int) second + RecordFile.FRAME_HEADER_BYTES + 3] ^= 0x20;
    Files.write(journal(), data);

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": damaged record at offset " + second)
        .hasMessageContaining(
            "followed by a valid record at offset " + recordOffsets(data).get(2))
        .hasMessageContaining("not a torn write");
    assertThat(Files.readAllBytes(journal())).isEqualTo(data);
  }

  @Test
  void aMissingRecordFailsLoudlyEvenThoughEveryChecksumIsValid() throws Exception {
    writeAndClose(5);
    byte[] data = Files.readAllBytes(journal());
    List<Long> offsets = recordOffsets(data);
    int from = offsets.get(1).intValue();
    int to = offsets.get(2).intValue();
    byte[] spliced = new byte[data.length - (to - from)];
    System.arraycopy(data, 0, spliced, 0, from);
    System.arraycopy(data, to, spliced, from, data.length - to);
    Files.write(journal(), spliced);

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": the record at offset " + from)
        .hasMessageContaining("holds version 3 after version 1 (expected: 2");
  }

  @Test
  void aDamagedSnapshotFailsLoudly() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));
    ((FileConfigStore) store).compact();
    store.close();
    byte[] data = Files.readAllBytes(snapshot());
    data[data.length - 3] ^= 0x20;
    Files.write(snapshot(), data);

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(snapshot() + ": damaged at offset " + RecordFile.HEADER_BYTES);
  }

  @Test
  void aJournalFromANewerFormatIsRefused() throws Exception {
    writeAndClose(1);
    try (var ch = java.nio.channels.FileChannel.open(journal(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).putInt(2).flip(), 4);
    }

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining(journal() + ": format 2 (expected: 1");
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefusedUntilTheFirstCloses() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));

    assertThatThrownBy(() -> FileConfigStore.open(dir()))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is already open in this process");
    assertThatThrownBy(() -> FileConfigStore.open(tmp.resolve(".").resolve("store")))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is already open in this process");
    // The refused opens must not have dropped the first one's lock or files.
    assertThat(store.apply(Change.create(PROVIDERS, "b", body(2))).version()).isEqualTo(2);
    store.close();

    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(2);
    }
  }

  @Test
  void anInterruptedWriterStoresNothingAndTheStoreStaysWritable() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));

    Thread.currentThread().interrupt(); // closes a FileChannel on its next operation
    try {
      assertThatThrownBy(() -> store.apply(Change.create(PROVIDERS, "b", body(2))))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("was interrupted; the change was not stored");
      assertThat(Thread.currentThread().isInterrupted())
          .as("interrupt status kept")
          .isTrue();
    } finally {
      Thread.interrupted();
    }

    assertThat(store.state().get(PROVIDERS, "b")).isEmpty();
    assertThat(store.apply(Change.create(PROVIDERS, "b", body(2))).version()).isEqualTo(2);
    store.close();
    try (FileConfigStore reopened = FileConfigStore.open(dir())) {
      assertThat(reopened.state().version()).isEqualTo(2);
      assertThat(reopened.state().list(PROVIDERS)).hasSize(2);
    }
  }

  @Test
  void filesAreReadableByTheOwnerOnly() throws Exception {
    assumeTrue(dir().getFileSystem().supportedFileAttributeViews().contains("posix"));
    store.apply(Change.create(PROVIDERS, "a", body(1)));
    ((FileConfigStore) store).compact();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir())))
        .isEqualTo("rwx------");
    for (String file : List.of(
        FileConfigStore.JOURNAL_FILE,
        FileConfigStore.SNAPSHOT_FILE,
        FileConfigStore.LOCK_FILE,
        HighWaterMark.FILE)) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(dir().resolve(file))))
          .as(file)
          .isEqualTo("rw-------");
    }
  }

  private static byte[] frame(byte[] payload) {
    ByteBuffer b = RecordFile.frame(payload);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static Long lastRecordOffset(byte[] journal) throws IOException {
    List<Long> offsets = recordOffsets(journal);
    return offsets.get(offsets.size() - 1);
  }

  private static List<Long> recordOffsets(byte[] journal) throws IOException {
    ByteBuffer in = ByteBuffer.wrap(journal);
    List<Long> offsets = new java.util.ArrayList<>();
    for (int pos = RecordFile.HEADER_BYTES;
        pos + RecordFile.FRAME_HEADER_BYTES <= journal.length;
        pos += RecordFile.FRAME_HEADER_BYTES + in.getInt(pos)) {
      offsets.add((long) pos);
    }
    return offsets;
  }
}
