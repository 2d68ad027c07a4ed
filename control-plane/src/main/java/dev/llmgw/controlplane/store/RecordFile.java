package dev.llmgw.controlplane.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The framing shared by the journal and the snapshot: an 8-byte file header (4-byte magic, 4-byte
 * format version), then records of {@code [u32 length][u32 CRC32 of payload][payload]}, big-endian.
 * Tells a torn tail (the last record is incomplete: a crash stopped its write) from damage (a record
 * that is all there but fails its check, or a bad record with a valid one after it).
 */
final class RecordFile {

  static final int FORMAT = 1;
  static final int JOURNAL_MAGIC = magic("LGWJ");
  static final int SNAPSHOT_MAGIC = magic("LGWS");
  static final int HIGH_WATER_MAGIC = magic("LGWH");
  static final int HEADER_BYTES = 8;
  static final int FRAME_HEADER_BYTES = 8;
  /** Largest payload accepted; also keeps a damaged length field from looking plausible. */
  static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
  /** A payload is a JSON object, so at least {@code {}}. */
  private static final int MIN_PAYLOAD_BYTES = 2;

  private RecordFile() {}

  /** One valid record and where it starts in the file. */
  record Frame(long offset, byte[] payload) {}

  /** What follows the valid records of a file. */
  enum End {
    /** Nothing: the file ends with its last valid record. */
    CLEAN,
    /**
     * The record at {@code validEnd} is incomplete: the file ends inside its header, its length
     * says more bytes than the file has, or the rest of the file is zeros (as a file system may leave
     * after a crash that extended the file). A crash can leave this; nothing valid follows.
     */
    TORN,
    /**
     * The record at {@code validEnd} is all there (its length fits in the file) but fails its
     * checksum or holds no JSON object. A crash does not leave this: the record was written whole
     * and then changed. Nothing valid follows.
     */
    DAMAGED
  }

  /** The valid records of a file, where they end, and what follows them. */
  record Scan(List<Frame> frames, long validEnd, long size, End end) {
    boolean tornTail() {
      return end == End.TORN;
    }
  }

  static ByteBuffer header(int magic) {
    return ByteBuffer.allocate(HEADER_BYTES).putInt(magic).putInt(FORMAT).flip();
  }

  static ByteBuffer frame(byte[] payload) {
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("commit of " + payload.length + " bytes (expected: <= "
          + MAX_PAYLOAD_BYTES + " bytes of JSON in one commit)");
    }
    return ByteBuffer.allocate(FRAME_HEADER_BYTES + payload.length)
        .putInt(payload.length)
        .putInt((int) crc(payload, 0, payload.length))
        .put(payload)
        .flip();
  }

  /**
   * Reads every record of {@code data} (the whole file). Stops at the first invalid record and
   * tells whether it is torn or damaged; if a valid record exists anywhere after it, the file is
   * damaged in the middle and this throws.
   */
  static Scan scan(Path file, int magic, byte[] data) {
    checkHeader(file, magic, data);
    List<Frame> frames = new ArrayList<>();
    int pos = HEADER_BYTES;
    while (pos < data.length) {
      int length = validFrameLength(data, pos);
      if (length < 0) {
        int next = nextValidFrame(data, pos + 1);
        if (next >= 0) {
          throw new StoreException(file + ": damaged record at offset " + pos
              + ", followed by a valid record at offset " + next
              + " (expected: damage only in the last, unacknowledged record). This is not a torn write;"
              + " refusing to start rather than drop acknowledged changes. Restore the directory from a backup,"
              + " or keep what comes before the damage with 'truncate -s " + pos + " " + file + "',"
              + " losing every change after it.");
        }
        End end = isTorn(data, pos) ? End.TORN : End.DAMAGED;
        return new Scan(List.copyOf(frames), pos, data.length, end);
      }
      byte[] payload = new byte[length];
      System.arraycopy(data, pos + FRAME_HEADER_BYTES, payload, 0, length);
      frames.add(new Frame(pos, payload));
      pos += FRAME_HEADER_BYTES + length;
    }
    return new Scan(List.copyOf(frames), data.length, data.length, End.CLEAN);
  }

  /**
   * Checks the 8-byte header of a store file: {@code magic}, then {@link #FORMAT}.
   *
   * @throws StoreException naming the file and what was expected
   */
  static void checkHeader(Path file, int magic, byte[] data) {
    String what = magic == JOURNAL_MAGIC
        ? "journal"
        : magic == SNAPSHOT_MAGIC ? "snapshot" : "high-water mark";
    if (data.length < HEADER_BYTES) {
      throw new StoreException(file + ": " + data.length + " bytes, shorter than the "
          + HEADER_BYTES + "-byte header (expected: a store " + what
          + "; it is created complete, so this is damage)");
    }
    ByteBuffer in = ByteBuffer.wrap(data);
    int actualMagic = in.getInt(0);
    if (actualMagic != magic) {
      throw new StoreException(file + ": starts with 0x" + Integer.toHexString(actualMagic)
          + " (expected: 0x" + Integer.toHexString(magic) + ", a store " + what + ")");
    }
    int format = in.getInt(4);
    if (format != FORMAT) {
      throw new StoreException(file + ": format " + format + " (expected: " + FORMAT
          + "; was it written by a newer control plane?)");
    }
  }

  /**
   * Whether the invalid record at {@code pos}, the last thing in the file, is one a crash can leave:
   * its header or its payload is cut short, or everything from it on is zeros.
   */
  private static boolean isTorn(byte[] data, int pos) {
    int remaining = data.length - pos;
    if (remaining < FRAME_HEADER_BYTES || lengthAt(data, pos) > remaining - FRAME_HEADER_BYTES) {
      return true;
    }
    for (int i = pos; i < data.length; i++) {
      if (data[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The payload length the record at {@code pos} announces, unsigned; it may not be all there. */
  static long lengthAt(byte[] data, long pos) {
    return Integer.toUnsignedLong(ByteBuffer.wrap(data).getInt((int) pos));
  }

  /** The payload length of a valid record at {@code pos}, or -1. */
  private static int validFrameLength(byte[] data, int pos) {
    if (data.length - pos < FRAME_HEADER_BYTES) {
      return -1;
    }
    ByteBuffer in = ByteBuffer.wrap(data);
    int length = in.getInt(pos);
    if (length < MIN_PAYLOAD_BYTES
        || length > MAX_PAYLOAD_BYTES
        || length > data.length - pos - FRAME_HEADER_BYTES) {
      return -1;
    }
    int crc = in.getInt(pos + 4);
    if ((int) crc(data, pos + FRAME_HEADER_BYTES, length) != crc
        || data[pos + FRAME_HEADER_BYTES] != '{') {
      return -1;
    }
    return length;
  }

  private static int nextValidFrame(byte[] data, int from) {
    for (int pos = from; pos <= data.length - FRAME_HEADER_BYTES - MIN_PAYLOAD_BYTES; pos++) {
      if (validFrameLength(data, pos) >= 0) {
        return pos;
      }
    }
    return -1;
  }

  static long crc(byte[] data, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(data, offset, length);
    return crc.getValue();
  }

  private static int magic(String ascii) {
    return ByteBuffer.wrap(ascii.getBytes(StandardCharsets.US_ASCII)).getInt();
  }
}
