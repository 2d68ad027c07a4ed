package dev.llmgw.it;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A stand-in LLM provider on loopback that answers chat completions and records what reached it. */
final class MockProvider implements AutoCloseable {

  /** A request as the provider received it. */
  record Received(String method, String path, Map<String, List<String>> headers, String body) {}

  static final String COMPLETION = """
      {"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",\
      "choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],\
      "usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}""";

  private final HttpServer server;
  final List<Received> received = new CopyOnWriteArrayList<>();

  MockProvider() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
          Map.copyOf(exchange.getRequestHeaders()), new String(body, StandardCharsets.UTF_8)));
      byte[] out = COMPLETION.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("content-type", "application/json");
      exchange.sendResponseHeaders(200, out.length);
      exchange.getResponseBody().write(out);
      exchange.close();
    });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
