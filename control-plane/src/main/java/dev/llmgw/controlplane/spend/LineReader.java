package dev.llmgw.controlplane.spend;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * The lines of a ledger file (journal or totals) with their byte offsets, read in chunks. A line
 * longer than {@link #MAX_LINE_BYTES} is skipped over and marked {@link #tooLong}: only damage makes
 * one (a batch holds at most 10000 records).
 */
final class LineReader {

  /** Longest line read back. */
  static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

  private final InputStream in;
  private final byte[] chunk = new byte[64 * 1024];
  private int chunkPos;
  private int chunkLen;
  private long position;

  byte[] buf = new byte[8192];
  /** Bytes of the current line in {@link #buf}, without the newline. */
  int length;
  /** Offset of the current line in the file. */
  long start;
  /** Offset just after the current line (and its newline). */
  long end;

  boolean newline;
  boolean tooLong;

  /** Reads {@code in}, whose first byte is at {@code offset} in the file. */
  LineReader(InputStream in, long offset) {
    this.in = in;
    this.position = offset;
  }

  /** The bytes {@code [from, to)} of {@code channel}, read by position: the channel's own position is left alone. */
  static InputStream region(FileChannel channel, long from, long to) {
    return new InputStream() {
      private long pos = from;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (pos >= to) {
          return -1;
        }
        int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, to - pos)), pos);
        if (n > 0) {
          pos += n;
        }
        return n;
      }
    };
  }

  /** Reads the next line, complete or not; false at the end. */
  boolean next() throws IOException {
    start = position;
    length = 0;
    newline = false;
    tooLong = false;
    while (true) {
      if (chunkPos == chunkLen) {
        chunkLen = in.read(chunk);
        chunkPos = 0;
        if (chunkLen <= 0) {
          chunkLen = 0;
          end = position;
          return position > start;
        }
      }
      byte b = chunk[chunkPos++];
      position++;
      if (b == '\n') {
        newline = true;
        end = position;
        return true;
      }
      if (length == buf.length) {
        if (buf.length >= MAX_LINE_BYTES) {
          tooLong = true;
          continue;
        }
        buf = Arrays.copyOf(buf, Math.min(MAX_LINE_BYTES, buf.length * 2));
      }
      buf[length++] = b;
    }
  }

  /** Whether the current line is whole (newline, not too long) and its checksum matches. */
  boolean intact() {
    return newline && !tooLong && JournalCodec.intact(buf, length);
  }
}
