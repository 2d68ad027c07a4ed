package dev.llmgw.extproc.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One server-sent event, as the SSE spec assembles it from its lines, with its JSON data parsed at
 * most once for every stage that reads it.
 *
 * <p>{@link #json()} is shared: stages that only read it see the provider's event; a response
 * rewriter, which runs after every reader of the event, may change it in place and write it out
 * again. Owned by one stream, like the parser that made it.
 */
public final class SseEvent {

  /** Keeps numbers exactly as the provider wrote them when a rewriter writes an event again. */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private final String event;
  private final String data;
  private final String id;
  private @Nullable JsonNode json;
  private boolean parsed;

  /**
   * @param event the {@code event:} field, or "" when absent (the spec's default type is "message")
   * @param data the {@code data:} lines joined with '\n'
   * @param id the {@code id:} field, or "" when absent
   */
  public SseEvent(String event, String data, String id) {
    this.event = Objects.requireNonNull(event, "event");
    this.data = Objects.requireNonNull(data, "data");
    this.id = Objects.requireNonNull(id, "id");
  }

  public String event() {
    return event;
  }

  public String data() {
    return data;
  }

  public String id() {
    return id;
  }

  /** OpenAI's end-of-stream marker event. */
  public boolean isDone() {
    return "[DONE]".equals(data);
  }

  /**
   * The data as a JSON object, parsed on the first call and kept; null when the data is not a JSON
   * object ({@code [DONE]}, keep-alives, anything malformed).
   */
  public @Nullable JsonNode json() {
    if (!parsed) {
      parsed = true;
      if (!data.isEmpty() && data.charAt(0) == '{') {
        try {
          json = JSON.readTree(data);
        } catch (JsonProcessingException e) {
          json = null;
        }
      }
    }
    return json;
  }

  /** The JSON mapper events are parsed with, for writing a changed event again. */
  public static ObjectMapper mapper() {
    return JSON;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SseEvent other
        && event.equals(other.event)
        && data.equals(other.data)
        && id.equals(other.id);
  }

  @Override
  public int hashCode() {
    return Objects.hash(event, data, id);
  }

  @Override
  public String toString() {
    return "SseEvent[event=" + event + ", data=" + data + ", id=" + id + "]";
  }
}
