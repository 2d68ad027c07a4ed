package dev.llmgw.extproc.api;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Incremental parser for {@code text/event-stream} bodies that arrive in arbitrary chunks.
 *
 * <p>Follows the WHATWG SSE rules: lines end in CRLF, LF or CR (a CR at the end of one chunk and
 * an LF at the start of the next are one line end); a blank line dispatches the event; lines
 * starting with ':' are comments; a single space after the field's colon is dropped. Only the bytes
 * of the unfinished line and the unfinished event are kept, and they are bounded by
 * {@code maxEventBytes} so a stream without blank lines cannot grow memory without limit.
 */
public final class SseParser {

  private final int maxEventBytes;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private String event = "";
  private String id = "";
  private boolean hasData;
  private boolean lastWasCr;
  private int eventBytes;

  public SseParser(int maxEventBytes) {
    if (maxEventBytes <= 0) {
      throw new IllegalArgumentException("maxEventBytes: " + maxEventBytes + " (expected: > 0)");
    }
    this.maxEventBytes = maxEventBytes;
  }

  /**
   * Feeds the next chunk and returns the events it completed, in order.
   *
   * @throws SseException if one event grows beyond {@code maxEventBytes}
   */
  public List<SseEvent> feed(ByteString chunk) {
    List<SseEvent> out = new ArrayList<>(2);
    for (int i = 0, n = chunk.size(); i < n; i++) {
      byte b = chunk.byteAt(i);
      if (b == '\n' && lastWasCr) {
        lastWasCr = false;
        continue;
      }
      lastWasCr = b == '\r';
      if (b == '\n' || b == '\r') {
        endLine(out);
        continue;
      }
      if (++eventBytes > maxEventBytes) {
        throw new SseException("server-sent event larger than " + maxEventBytes + " bytes (expected: events separated by a blank line)");
      }
      line.write(b);
    }
    return out;
  }

  /** True when bytes of an unfinished event are held, e.g. the stream ended mid-event. */
  public boolean hasPartialEvent() {
    return line.size() > 0 || hasData || !event.isEmpty();
  }

  private void endLine(List<SseEvent> out) {
    if (line.size() == 0) {
      if (hasData) {
        out.add(new SseEvent(event, data.toString(), id));
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
    String value = colon < 0 ? "" : text.substring(colon + (colon + 1 < text.length() && text.charAt(colon + 1) == ' ' ? 2 : 1));
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
      default -> { }
    }
  }

  /** A stream that breaks the limits the parser enforces. */
  public static final class SseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SseException(String message) {
      super(message);
    }
  }
}
