package dev.llmgw.controlplane.mockprovider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writes answers onto an exchange: whole JSON bodies, errors in an API's shape, and SSE streams. */
final class Wire {

  static final ObjectMapper JSON = new ObjectMapper();

  private Wire() {}

  static void json(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("content-type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** An error as the API at that path reports it; 429 carries {@code retry-after: 1} as the providers send. */
  static void error(HttpExchange exchange, ErrorShape shape, int status, String message)
      throws IOException {
    if (status == 429) {
      exchange.getResponseHeaders().set("retry-after", "1");
    }
    json(exchange, status, shape.body(status, message));
  }

  /**
   * An open {@code text/event-stream} answer. Chunked encoding and a flush per event, so a client
   * (and the gateway between) sees each event when it is written, as with a real provider.
   */
  static final class Sse implements AutoCloseable {

    private final OutputStream out;

    private Sse(OutputStream out) {
      this.out = out;
    }

    static Sse open(HttpExchange exchange) throws IOException {
      exchange.getResponseHeaders().set("content-type", "text/event-stream; charset=utf-8");
      exchange.getResponseHeaders().set("cache-control", "no-cache");
      exchange.sendResponseHeaders(200, 0);
      return new Sse(exchange.getResponseBody());
    }

    /** {@code data: <json>} (OpenAI's form: no event name). */
    void data(JsonNode data) throws IOException {
      write("data: " + JSON.writeValueAsString(data) + "\n\n");
    }

    /** {@code event: <name>} then {@code data: <json>} (Anthropic's form). */
    void event(String name, JsonNode data) throws IOException {
      write("event: " + name + "\ndata: " + JSON.writeValueAsString(data) + "\n\n");
    }

    /** OpenAI's end-of-stream sentinel. */
    void done() throws IOException {
      write("data: [DONE]\n\n");
    }

    private void write(String event) throws IOException {
      out.write(event.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
