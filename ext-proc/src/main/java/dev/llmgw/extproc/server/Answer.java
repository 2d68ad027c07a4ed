package dev.llmgw.extproc.server;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A complete response a stage gives in place of the provider's (a cached answer, a guardrail's
 * refusal written as the model would write it): the request is not forwarded. The body is the
 * whole response: a JSON document, or for a streamed request a complete {@code text/event-stream}
 * body, which Envoy sends to the client at once.
 *
 * @param status HTTP status, one Envoy's {@code StatusCode} enum names (200 for an answer)
 * @param contentType {@code application/json} or {@code text/event-stream}
 * @param body the whole response body
 * @param headers further response headers, lower-case names
 */
public record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {

  public Answer {
    requireNonNull(contentType, "contentType");
    requireNonNull(body, "body");
    headers = Map.copyOf(headers);
  }

  /** A 200 JSON answer. */
  public static Answer json(byte[] body, Map<String, String> headers) {
    return new Answer(200, "application/json", body, headers);
  }

  /** A 200 answer to a streamed request: {@code body} holds every event, the last one included. */
  public static Answer eventStream(byte[] body, Map<String, String> headers) {
    return new Answer(200, "text/event-stream", body, headers);
  }
}
