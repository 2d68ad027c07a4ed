package dev.llmgw.extproc.api;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Incremental parser for {@code text/event-stream} bodies that arrive in arbitrary chunks.
 *
 * <p>Follows the WHATWG SSE rules: lines end in CRLF, LF or CR (a CR at the end of one chunk and
 * an LF at the start of the next are one line end); a blank line dispatches the event; lines
 * starting with ':' are comments; a single space after the field's colon is dropped. Only the bytes
 * of the unfinished line and the unfinished event are kept, and they are bounded by
 * {@code maxEventBytes} so a stream without blank lines cannot grow memory without limit.
 *
 * <p>An event whose fields grow beyond {@code maxEventBytes} is skipped: what is held of it is
 * dropped, the rest of it is only counted, and parsing resumes after the blank line that ends it,
 * so the events after it (often the one carrying usage) are still dispatched. {@link #takeSkipped}
 * says what was skipped.
 */
public final class SseParser {

  /** Largest chunk copied into the reused buffer; larger ones get their own copy, so the parser never keeps them. */
  static final int MAX_SCRATCH_BYTES = 64 * 1024;

  private final int maxEventBytes;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private String event = "";
  private String id = "";
  private boolean hasData;
  private boolean lastWasCr;
  private int eventBytes;
  /** Inside an event over the limit: its bytes are counted, not kept, until the blank line that ends it. */
  private boolean skipping;
  /** While skipping: whether the current line has a byte (a line without one ends the event). */
  private boolean skippedLineHasBytes;

  private int skippedEvents;
  private long skippedBytes;
  private @Nullable ByteArrayOutputStream raw;
  private @Nullable List<Segment> segments;
  /** The chunk being fed, copied out of its ByteString in one go; reused for chunks up to {@link #MAX_SCRATCH_BYTES}. */
  private byte[] scratch = new byte[0];

  public SseParser(int maxEventBytes) {
    if (maxEventBytes <= 0) {
      throw new IllegalArgumentException("maxEventBytes: " + maxEventBytes + " (expected: > 0)");
    }
    this.maxEventBytes = maxEventBytes;
  }

  /** Feeds the next chunk and returns the events it completed, in order. */
  public List<SseEvent> feed(ByteString chunk) {
    List<SseEvent> out = new ArrayList<>(2);
    byte[] bytes = bytesOf(chunk);
    int n = chunk.size();
    int i = 0;
    while (i < n) {
      byte b = bytes[i];
      if (b == '\n' || b == '\r') {
        if (b == '\r' || !lastWasCr) {
          endLine(out);
        }
        lastWasCr = b == '\r';
        i++;
        continue;
      }
      lastWasCr = false;
      i = appendLine(bytes, i, n);
    }
    return out;
  }

  /**
   * One dispatch unit of the stream with the exact bytes it was made of: an event, or bytes that made
   * no event (comments, blank lines, a block without data), or a part of an event over the limit.
   * Concatenating every segment's {@code raw}, in order, gives back the stream as it was fed.
   *
   * @param event the event, or null when the bytes dispatched none
   * @param raw the bytes, from the end of the previous segment through this one's blank line
   * @param oversized whether the bytes belong to an event over the limit, which is never
   *     dispatched: they are handed out as they arrive (one segment per chunk) instead of held
   */
  public record Segment(@Nullable SseEvent event, byte[] raw, boolean oversized) {}

  /** What was skipped since the last {@link #takeSkipped}: events over the limit (counted when they begin) and their bytes. */
  public record Skipped(int events, long bytes) {
    static final Skipped NONE = new Skipped(0, 0);
  }

  /**
   * Like {@link #feed} but also keeps each event's bytes, for callers that forward the stream and
   * rewrite some events. Bytes of an unfinished event stay held until it completes or {@link #drain},
   * except for an event over the limit, whose bytes come out as {@link Segment#oversized} segments
   * as soon as they are fed.
   */
  public List<Segment> feedSegments(ByteString chunk) {
    ByteArrayOutputStream raw = this.raw;
    if (raw == null) {
      raw = new ByteArrayOutputStream(256);
      this.raw = raw;
    }
    List<Segment> out = new ArrayList<>(2);
    segments = out;
    try {
      byte[] bytes = bytesOf(chunk);
      int n = chunk.size();
      int from = 0;
      int i = 0;
      while (i < n) {
        byte b = bytes[i];
        if (b == '\n' || b == '\r') {
          if (b == '\r' || !lastWasCr) {
            if (skipping ? !skippedLineHasBytes : line.size() == 0) {
              // A blank line: everything up to and including it is one segment.
              raw.write(bytes, from, i + 1 - from);
              from = i + 1;
            }
            endLine(null);
          }
          lastWasCr = b == '\r';
          i++;
          continue;
        }
        lastWasCr = false;
        boolean wasSkipping = skipping;
        i = appendLine(bytes, i, n);
        if (skipping && !wasSkipping) {
          // The event just outgrew the limit: what is held of it goes out now, and so will the
          // rest.
          raw.write(bytes, from, i - from);
          from = i;
          out.add(new Segment(null, raw.toByteArray(), true));
          raw.reset();
        }
      }
      if (from < n) {
        if (skipping) {
          out.add(new Segment(null, Arrays.copyOfRange(bytes, from, n), true));
        } else {
          raw.write(bytes, from, n - from);
        }
      }
      return out;
    } finally {
      segments = null;
    }
  }

  /** The chunk's bytes in an array, so the loops read them without a call per byte; only the first {@code chunk.size()} count. */
  private byte[] bytesOf(ByteString chunk) {
    int n = chunk.size();
    if (n > MAX_SCRATCH_BYTES) {
      return chunk.toByteArray();
    }
    if (scratch.length < n) {
      scratch = new byte[Math.min(MAX_SCRATCH_BYTES, Math.max(n, 2 * scratch.length))];
    }
    chunk.copyTo(scratch, 0);
    return scratch;
  }

  /**
   * Adds the bytes from {@code start} (not a line break) up to the next line break (or {@code
   * limit}, the end of the chunk) to the current line in one copy, or only counts them when the
   * event is over the limit; returns where they end.
   */
  private int appendLine(byte[] bytes, int start, int limit) {
    int end = start;
    while (end < limit && bytes[end] != '\n' && bytes[end] != '\r') {
      end++;
    }
    int length = end - start;
    if (!skipping && (long) eventBytes + length > maxEventBytes) {
      // Too large to hold: drop what is held of the event and count the rest until its end.
      skipping = true;
      skippedEvents++;
      skippedBytes += eventBytes;
      line.reset();
      data.setLength(0);
      event = "";
      hasData = false;
      eventBytes = 0;
    }
    if (skipping) {
      skippedLineHasBytes = true;
      skippedBytes += length;
      return end;
    }
    eventBytes += length;
    line.write(bytes, start, length);
    return end;
  }

  /** What was skipped since the last call; resets it. */
  public Skipped takeSkipped() {
    if (skippedEvents == 0 && skippedBytes == 0) {
      return Skipped.NONE;
    }
    Skipped s = new Skipped(skippedEvents, skippedBytes);
    skippedEvents = 0;
    skippedBytes = 0;
    return s;
  }

  /** Bytes held of an unfinished event (for a stream that ended without a final blank line); resets them. */
  public byte[] drain() {
    if (raw == null) {
      return new byte[0];
    }
    byte[] held = raw.toByteArray();
    raw.reset();
    return held;
  }

  /** True when bytes of an unfinished event are held, e.g. the stream ended mid-event. */
  public boolean hasPartialEvent() {
    return line.size() > 0 || hasData || !event.isEmpty() || skipping;
  }

  private void endLine(@Nullable List<SseEvent> out) {
    if (skipping && skippedLineHasBytes) {
      skippedLineHasBytes = false;
      return;
    }
    if (line.size() == 0) {
      boolean oversized = skipping;
      skipping = false;
      SseEvent dispatched = hasData ? new SseEvent(event, data.toString(), id) : null;
      List<Segment> segments = this.segments;
      ByteArrayOutputStream raw = this.raw;
      if (segments != null && raw != null) { // feedSegments sets both
        segments.add(new Segment(dispatched, raw.toByteArray(), oversized));
        raw.reset();
      } else if (dispatched != null && out != null) { // feed passes its list
        out.add(dispatched);
      }
      data.setLength(0);
      event = "";
      hasData = false;
      eventBytes = 0;
      return;
    }
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.charAt(0) == ':') {
      return;
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0
        ? ""
        : text.substring(
            colon + (colon + 1 < text.length() && text.charAt(colon + 1) == ' ' ? 2 : 1));
    switch (field) {
      case "data" -> {
        if (hasData) {
          data.append('\n');
        }
        data.append(value);
        hasData = true;
      }
      case "event" -> event = value;
      case "id" -> {
        if (value.indexOf('\0') < 0) {
          id = value;
        }
      }
      default -> {}
    }
  }
}
