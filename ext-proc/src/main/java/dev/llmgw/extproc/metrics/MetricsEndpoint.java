package dev.llmgw.extproc.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Serves {@code GET /metrics} in Prometheus text format; one endpoint, so the JDK's HTTP server suffices. */
public final class MetricsEndpoint implements AutoCloseable {

  private final HttpServer server;

  private MetricsEndpoint(HttpServer server) {
    this.server = server;
  }

  /** Serves on {@code bindHost:port} (port 0 picks a free one). */
  public static MetricsEndpoint start(String bindHost, int port, PrometheusMeterRegistry registry) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(bindHost, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "ext-proc could not bind its metrics port " + bindHost + ":" + port + ": "
              + e.getMessage(),
          e);
    }
    server.createContext("/metrics", exchange -> {
      byte[] body;
      int status;
      if ("GET".equals(exchange.getRequestMethod())
          && "/metrics".equals(exchange.getRequestURI().getPath())) {
        body = registry.scrape().getBytes(StandardCharsets.UTF_8);
        status = 200;
        exchange
            .getResponseHeaders()
            .add("content-type", "text/plain; version=0.0.4; charset=utf-8");
      } else {
        body = "{\"error\":{\"message\":\"expected: GET /metrics\",\"type\":\"not_found\"}}"
            .getBytes(StandardCharsets.UTF_8);
        status = 404;
        exchange.getResponseHeaders().add("content-type", "application/json");
      }
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return new MetricsEndpoint(server);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
