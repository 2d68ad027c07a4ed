package dev.llmgw.extproc.api;

import com.google.protobuf.ByteString;

/**
 * The last bytes of a body too large to hold, and the size of the whole body: where a JSON answer
 * carries its usage. Holds one array of its capacity whatever the body's size.
 */
public final class BodyTail {

  private final byte[] ring;
  /** Where the next byte goes. */
  private int next;

  private long total;

  public BodyTail(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
    }
    this.ring = new byte[capacity];
  }

  /** Appends a chunk; only its last bytes are copied when it is longer than the capacity. */
  public void append(ByteString chunk) {
    int n = chunk.size();
    total += n;
    int from = Math.max(0, n - ring.length);
    while (from < n) {
      int length = Math.min(n - from, ring.length - next);
      chunk.copyTo(ring, from, next, length);
      from += length;
      next = (next + length) % ring.length;
    }
  }

  /** The last {@code min(totalBytes(), capacity)} bytes, in order. */
  public byte[] bytes() {
    if (total < ring.length) {
      byte[] out = new byte[next];
      System.arraycopy(ring, 0, out, 0, next);
      return out;
    }
    byte[] out = new byte[ring.length];
    System.arraycopy(ring, next, out, 0, ring.length - next);
    System.arraycopy(ring, 0, out, ring.length - next, next);
    return out;
  }

  /** Bytes appended in all. */
  public long totalBytes() {
    return total;
  }
}
