package dev.llmgw.controlplane.store;

import static dev.llmgw.controlplane.store.DataDirectory.closeQuietly;
import static dev.llmgw.controlplane.store.DataDirectory.ownerOnly;
import static dev.llmgw.controlplane.store.DataDirectory.writeFully;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The highest store version ever acknowledged, kept apart from the snapshot and the journal so
 * that it outlives a repair of them: once an operator has cut a damaged record out of the journal,
 * the store still knows that the record's version was handed out, and continues above it rather
 * than give the same version to different content (Envoy and ext-proc take a version they have
 * seen for configuration they already have).
 *
 * <p>The file is the 8-byte store header ({@code "LGWH"}, format 1) and two slots of {@code [u64
 * version][u32 CRC32 of those 8 bytes]}. A write replaces the slot holding the lower version and is
 * forced, so a write torn by a crash leaves the other slot: the version before, which is all that
 * was acknowledged.
 */
final class HighWaterMark implements AutoCloseable {

  static final String FILE = "high-water";

  private static final int SLOT_BYTES = 12;
  private static final int FILE_BYTES = RecordFile.HEADER_BYTES + 2 * SLOT_BYTES;
  /** What a slot that fails its checksum counts as: below every version, so it is written first. */
  private static final long INVALID = -1;

  private final DataDirectory data;
  private final Path file;
  private final long[] slots;
  /** Null until the file exists: a store that never committed has none. */
  private @Nullable FileChannel channel;

  private HighWaterMark(
      DataDirectory data, Path file, long[] slots, @Nullable FileChannel channel) {
    this.data = data;
    this.file = file;
    this.slots = slots;
    this.channel = channel;
  }

  /**
   * Reads the mark in {@code data}'s directory; 0 when there is no file yet.
   *
   * @throws StoreException if the file is damaged or cannot be read
   */
  static HighWaterMark open(DataDirectory data) {
    Path file = data.path().resolve(FILE);
    if (!Files.exists(file)) {
      return new HighWaterMark(data, file, new long[] {0, 0}, null);
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new StoreException("cannot read " + file + ": " + e, e);
    }
    RecordFile.checkHeader(file, RecordFile.HIGH_WATER_MAGIC, bytes);
    if (bytes.length != FILE_BYTES) {
      throw damaged(file, bytes.length + " bytes (expected: " + FILE_BYTES + ")");
    }
    long[] slots = {slot(bytes, 0), slot(bytes, 1)};
    if (slots[0] == INVALID && slots[1] == INVALID) {
      throw damaged(file, "neither of its two slots passes its checksum");
    }
    try {
      return new HighWaterMark(
          data,
          file,
          slots,
          FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
    } catch (IOException e) {
      throw new StoreException("cannot open " + file + " for writing: " + e, e);
    }
  }

  Path file() {
    return file;
  }

  /** The highest version acknowledged so far, as far as this file knows; 0 before the first. */
  long value() {
    return Math.max(slots[0], slots[1]);
  }

  /**
   * Makes {@code version} the mark, durably, unless the mark is that high already. An interrupt,
   * which closes the channel but is no I/O error, is retried once on a new channel without the
   * flag; the flag is restored afterwards.
   */
  void raise(long version) throws IOException {
    if (version <= value()) {
      return;
    }
    FileChannel open = channel;
    if (open == null) {
      create(version);
      return;
    }
    int index = slots[0] <= slots[1] ? 0 : 1;
    long position = RecordFile.HEADER_BYTES + (long) index * SLOT_BYTES;
    try {
      writeFully(open, encode(version), position);
      open.force(true);
    } catch (ClosedByInterruptException e) {
      boolean interrupted = Thread.interrupted();
      try {
        FileChannel reopened =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel = reopened;
        writeFully(reopened, encode(version), position);
        reopened.force(true);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
    slots[index] = version;
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  /** The first mark: both slots at {@code version}, written to a temporary file and renamed. */
  private void create(long version) throws IOException {
    Path tmp = file.resolveSibling(FILE + FileConfigStore.TMP_SUFFIX);
    FileChannel fresh = FileChannel.open(
        tmp,
        Set.of(
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE),
        ownerOnly(file, false));
    try {
      ByteBuffer content = ByteBuffer.allocate(FILE_BYTES)
          .put(RecordFile.header(RecordFile.HIGH_WATER_MAGIC))
          .put(encode(version))
          .put(encode(version))
          .flip();
      writeFully(fresh, content, 0);
      fresh.force(true);
      DataDirectory.moveAtomically(tmp, file);
    } catch (IOException | RuntimeException e) {
      closeQuietly(fresh);
      Files.deleteIfExists(tmp);
      throw e;
    }
    channel = fresh;
    slots[0] = version;
    slots[1] = version;
    data.syncRenames();
  }

  private static ByteBuffer encode(long version) {
    byte[] bytes = ByteBuffer.allocate(Long.BYTES).putLong(version).array();
    return ByteBuffer.allocate(SLOT_BYTES)
        .put(bytes)
        .putInt((int) RecordFile.crc(bytes, 0, bytes.length))
        .flip();
  }

  /** The version in slot {@code index}, or {@link #INVALID} when it fails its checksum. */
  private static long slot(byte[] bytes, int index) {
    int offset = RecordFile.HEADER_BYTES + index * SLOT_BYTES;
    ByteBuffer in = ByteBuffer.wrap(bytes);
    long version = in.getLong(offset);
    boolean valid =
        (int) RecordFile.crc(bytes, offset, Long.BYTES) == in.getInt(offset + Long.BYTES);
    return valid && version >= 0 ? version : INVALID;
  }

  private static StoreException damaged(Path file, String problem) {
    return new StoreException(file + ": " + problem
        + ". It is created complete and each write replaces one slot, so this is damage, not a"
        + " torn write; refusing to start. Restore it from a backup, or delete it to let the store"
        + " rebuild it from the snapshot and journal (versions acknowledged after the last record"
        + " still in the journal may then be handed out again).");
  }
}
