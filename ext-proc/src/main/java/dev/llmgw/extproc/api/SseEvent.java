package dev.llmgw.extproc.api;

/**
 * One server-sent event, as the SSE spec assembles it from its lines.
 *
 * @param event the {@code event:} field, or "" when absent (the spec's default type is "message")
 * @param data the {@code data:} lines joined with '\n'
 * @param id the {@code id:} field, or "" when absent
 */
public record SseEvent(String event, String data, String id) {

  /** OpenAI's end-of-stream marker event. */
  public boolean isDone() {
    return "[DONE]".equals(data);
  }
}
