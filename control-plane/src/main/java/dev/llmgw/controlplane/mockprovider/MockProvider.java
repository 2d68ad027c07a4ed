package dev.llmgw.controlplane.mockprovider;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in LLM provider on a local port that speaks the OpenAI Chat Completions, Embeddings and
 * Models APIs and the Anthropic Messages API, JSON and streaming, well enough for the official SDKs.
 * It lets the gateway run with no provider key ({@code deploy/run-local.sh}) and lets end-to-end
 * tests inject faults and latency, choose the answer, and read every request that reached it.
 *
 * <p>By default a chat answer echoes the last user message ({@code "Mock answer: " + text}) byte for
 * byte, so a test can check that what the gateway sent upstream comes back restored; when tools are
 * offered it calls the first one. Token usage is ceil(characters / 4) (plus 3 per prompt message),
 * deterministic from run to run. All settings are safe to change while requests are in flight; each
 * request reads them once.
 */
public final class MockProvider implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MockProvider.class);
  private static final int THREADS = 64;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Duration latency;
  private final AtomicReference<Behaviour> behaviour = new AtomicReference<>(Behaviour.DEFAULT);
  private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong sequence = new AtomicLong();

  private MockProvider(HttpServer server, ExecutorService executor, Duration latency) {
    this.server = server;
    this.executor = executor;
    this.latency = latency;
  }

  /**
   * Starts serving at once on {@code host:port}.
   *
   * @param host the address to bind, e.g. {@code 127.0.0.1}
   * @param port the port, or 0 for a free one (read it back with {@link #port()})
   * @param latency the delay before the first byte of every answer, to look like a remote provider
   * @throws UncheckedIOException if the address cannot be bound
   */
  public static MockProvider start(String host, int port, Duration latency) {
    requireNonNull(host, "host");
    requireNonNull(latency, "latency");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency: " + latency + " (expected: >= 0)");
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 128);
    } catch (IOException e) {
      throw new UncheckedIOException("mock provider: cannot listen on " + host + ":" + port, e);
    }
    // Bounded, so a runaway client cannot exhaust the machine, but generous, so that concurrency
    // and timeout tests with many slow requests in flight are not serialised by the mock.
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, task -> {
      Thread thread = new Thread(task, "mock-provider-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    MockProvider provider = new MockProvider(server, executor, latency);
    server.setExecutor(executor);
    server.createContext("/", provider::handle);
    server.start();
    return provider;
  }

  /** The bound port; the actual one when started with port 0. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Where clients reach it, e.g. {@code http://127.0.0.1:8900}; loopback when bound to all interfaces. */
  public String baseUrl() {
    InetAddress address = server.getAddress().getAddress();
    String host;
    if (address.isAnyLocalAddress()) {
      host = "127.0.0.1";
    } else if (address instanceof Inet6Address) {
      host = "[" + address.getHostAddress() + "]";
    } else {
      host = address.getHostAddress();
    }
    return "http://" + host + ":" + port();
  }

  /** Every request so far, failed ones included, in arrival order; a copy. */
  public List<Received> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  /** Forgets the requests received so far. */
  public void clearReceived() {
    received.clear();
  }

  /**
   * The next {@code times} requests, whatever their path, get {@code status} with an error body in
   * the shape of the API at their path (Anthropic under {@code /v1/messages}, OpenAI elsewhere); a
   * 429 also carries {@code retry-after: 1}. Exactly {@code times} requests fail, however many
   * arrive at once. Replaces an earlier {@code failNext} that has not run out; takes precedence over
   * {@link #failAll}.
   */
  public void failNext(int times, int status) {
    if (times < 0) {
      throw new IllegalArgumentException("times: " + times + " (expected: >= 0)");
    }
    checkErrorStatus(status);
    behaviour.updateAndGet(b -> b.withFailNext(times, status));
  }

  /** Every request gets {@code status} (as {@link #failNext}) until {@link #reset()}: a provider outage. */
  public void failAll(int status) {
    checkErrorStatus(status);
    behaviour.updateAndGet(b -> b.withFailAll(status));
  }

  /**
   * Extra delay before the first byte of every following answer, on top of the latency given to
   * {@link #start}: long enough, it makes the gateway's upstream timeout fire.
   */
  public void delay(Duration d) {
    requireNonNull(d, "d");
    if (d.isNegative()) {
      throw new IllegalArgumentException("d: " + d + " (expected: >= 0)");
    }
    behaviour.updateAndGet(b -> b.withDelay(d));
  }

  /** The assistant text of following answers, instead of the echo of the last user message. */
  public void answerWith(String text) {
    requireNonNull(text, "text");
    behaviour.updateAndGet(b -> b.withAnswer(text));
  }

  /** How many characters of text (or of tool arguments) each streamed delta event carries; 8 by default. */
  public void sseChunkChars(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n: " + n + " (expected: > 0)");
    }
    behaviour.updateAndGet(b -> b.withChunkChars(n));
  }

  /** Back to the defaults: no faults, no extra delay, echo answers, 8 characters per event. Keeps {@link #received()}. */
  public void reset() {
    behaviour.set(Behaviour.DEFAULT);
  }

  /** Stops at once: closes the listening socket and interrupts answers in progress. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static void checkErrorStatus(int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 400..599)");
    }
  }

  private void handle(HttpExchange exchange) {
    try {
      serve(exchange);
    } catch (IOException e) {
      log.debug(
          "mock provider: {} {} ended early: {}",
          exchange.getRequestMethod(),
          exchange.getRequestURI(),
          e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.warn(
          "mock provider: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
    } finally {
      exchange.close();
    }
  }

  private void serve(HttpExchange exchange) throws IOException, InterruptedException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getPath();
    received.add(new Received(
        method,
        exchange.getRequestURI().toString(),
        lowerCaseNames(exchange.getRequestHeaders()),
        body));
    Behaviour now = behaviour.getAndUpdate(Behaviour::afterRequest);
    long seq = sequence.incrementAndGet();
    ErrorShape shape = ErrorShape.forPath(path);

    TimeUnit.NANOSECONDS.sleep(latency.plus(now.delay()).toNanos());
    if (now.faultStatus() != 0) {
      Wire.error(
          exchange,
          shape,
          now.faultStatus(),
          "mock provider: injected failure (status " + now.faultStatus() + ")");
      return;
    }
    if (method.equals("GET") && path.equals(OpenAiApi.MODELS)) {
      OpenAiApi.models(exchange);
      return;
    }
    boolean known = path.equals(OpenAiApi.CHAT_COMPLETIONS)
        || path.equals(OpenAiApi.EMBEDDINGS)
        || path.equals(AnthropicApi.MESSAGES);
    if (!method.equals("POST") || !known) {
      Wire.error(exchange, shape, 404, "mock provider: no such endpoint: " + method + " " + path);
      return;
    }
    JsonNode request;
    try {
      request = Wire.JSON.readTree(body);
    } catch (JacksonException e) {
      Wire.error(exchange, shape, 400, "mock provider: malformed JSON: " + e.getOriginalMessage());
      return;
    }
    if (request == null || !request.isObject()) {
      Wire.error(exchange, shape, 400, "mock provider: the body must be a JSON object");
      return;
    }
    switch (path) {
      case OpenAiApi.CHAT_COMPLETIONS -> OpenAiApi.chat(exchange, request, now, seq);
      case OpenAiApi.EMBEDDINGS -> OpenAiApi.embeddings(exchange, request);
      default -> AnthropicApi.messages(exchange, request, now, seq);
    }
  }

  private static Map<String, List<String>> lowerCaseNames(Map<String, List<String>> headers) {
    Map<String, List<String>> lower = new LinkedHashMap<>();
    headers.forEach((name, values) -> lower
        .computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>())
        .addAll(values));
    return lower;
  }

  /**
   * A request as it reached the provider, recorded before it was answered.
   *
   * @param method the HTTP method
   * @param path the path with the query string, as sent
   * @param headers header values by lower-case name
   * @param body the body bytes as received
   */
  public record Received(
      String method, String path, Map<String, List<String>> headers, byte[] body) {

    /** Copies everything, so a record cannot change after it was taken. */
    public Received {
      requireNonNull(method, "method");
      requireNonNull(path, "path");
      Map<String, List<String>> copy = new LinkedHashMap<>();
      requireNonNull(headers, "headers")
          .forEach((name, values) -> copy.put(name, List.copyOf(values)));
      headers = Collections.unmodifiableMap(copy);
      body = requireNonNull(body, "body").clone();
    }

    /** A copy of the body bytes. */
    @Override
    public byte[] body() {
      return body.clone();
    }

    /** The body as UTF-8 text, as the APIs send it. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** Method, path and body text, so a failed assertion shows what was received. */
    @Override
    public String toString() {
      return method + " " + path + " " + bodyText();
    }

    /** The first value of a header, by any case of its name; null when absent. */
    public @Nullable String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }
  }
}
