package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.mockprovider.MockProvider;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.extproc.driver.ClientResponse;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.EnvoyExtProcDriver;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.Headers;
import dev.llmgw.extproc.driver.UpstreamRequest;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.pii.PiiProtection;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.server.ExtProcServer;
import dev.llmgw.extproc.server.ServedBy;
import dev.llmgw.extproc.tokens.TokenCounting;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keeps ext-proc's Envoy-faithful driver honest: each exchange is played once through a real Envoy
 * (on the control plane's own listener, route and ext_proc filter config, over ADS) and once through
 * the driver configured with the ext_proc filter config the control plane pushed. Both talk to the same
 * ext_proc service in this JVM behind a {@link RecordingInterceptor}: the production ext-proc (its
 * policy, PII and token listeners), or for exchanges that name a script, a {@link ScriptedFront} script
 * giving answers the production processor never gives. Each run has a mock provider of its own, so
 * both see the same sequence of requests and number their answers alike.
 *
 * <p>Per exchange it requires the same messages at ext-proc (phase, headers, end_of_stream, bodies,
 * protocol_config and every other field), the same request at the provider (method, path, headers,
 * body) and the same answer at the client (status, headers, body bytes, reset or not), and checks
 * the status through Envoy against the one expected, so both cannot be wrong together unnoticed.
 *
 * <p>Compared modulo exactly these, each an entry in the driver's package Javadoc ("Known
 * differences from Envoy 1.40") unless it is about the harness:
 * <ul>
 *   <li>headers Envoy adds or the clock makes different: {@link #ENVOY_ADDED};</li>
 *   <li>the chunk boundaries of a streamed response body: compared as concatenated bytes with
 *       {@code end_of_stream} on the last message only;</li>
 *   <li>when the provider's body arrives: an answer with content-length is given to the driver as
 *       {@code bodyWithHeaders()}, and the scripts for which the order matters answer the response
 *       headers late, so Envoy has the whole body by then too;</li>
 *   <li>the router: the driver's upstream removes the headers the pushed route configuration removes;</li>
 *   <li>CEL: the driver's upstream says what Envoy's {@code response_attributes} evaluate to for an
 *       answer of the provider {@code mock};</li>
 *   <li>harness: the mock provider's clock ({@code "created"} in its answers) may tick between the
 *       two runs.</li>
 * </ul>
 * Not compared: the dynamic metadata Envoy ends up with (Envoy shows it only in its access log).
 */
@RequiresEnvoy
class DriverDifferentialTest {

  /**
   * Headers left out of every comparison: what Envoy's connection manager adds to each request
   * ({@code x-request-id}, random; {@code x-forwarded-proto}) and to each response it sends
   * ({@code server}); the clock ({@code date}, the mock's or Envoy's on a local reply); and the
   * HTTP/1.1 framing Envoy's codec picks for a body without content-length ({@code transfer-encoding}).
   * Plus every {@code x-envoy-*} header (the router's {@code x-envoy-upstream-service-time},
   * {@code x-envoy-expected-rq-timeout-ms}). Nothing else.
   */
  static final Set<String> ENVOY_ADDED =
      Set.of("x-request-id", "x-forwarded-proto", "date", "server", "transfer-encoding");

  static final String ENVOY_ADDED_PREFIX = "x-envoy-";

  private static final String POLICY = """
      version: "differential-1"
      unknown_model: reject
      include_stream_usage: true
      models:
        fast:        { route: mock, model: gpt-4o-mini }
        gpt-4o-mini: { route: mock, model: gpt-4o-mini }
      pii:
        default:
          entities: { email: mask }
          restore: true
      """;
  private static final Pattern MOCK_CLOCK = Pattern.compile("\"created\":\\d+");
  private static final Duration STREAM_END = Duration.ofSeconds(10);

  @TempDir
  static Path work;

  private static RecordingInterceptor recorder;
  private static ExtProcServer extProc;
  private static ManagedChannel productionChannel;
  private static Server front;
  private static ManagedChannel driverChannel;
  private static MockProvider envoyMock;
  private static MockProvider driverMock;
  private static ControlPlane controlPlane;
  private static EnvoyProcess envoy;
  private static EnvoyExtProcDriver driver;
  private static int listenerPort;
  private static Set<String> routerRemoves;

  /** One client request, how the mock provider should answer it, and the status the client gets through Envoy. */
  record Exchange(
      String name,
      String method,
      String path,
      List<Map.Entry<String, String>> headers,
      String body,
      Consumer<MockProvider> provider,
      int status) {

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Exchange> exchanges() {
    String json = "application/json";
    return Stream.of(
        new Exchange(
            "non-LLM passthrough GET",
            "GET",
            "/v1/models",
            List.of(Map.entry("accept", json)),
            "",
            p -> {},
            200),
        chat(
            "chat JSON, alias rewritten, answer untouched",
            "{\"model\":\"fast\",\"messages\":" + "[{\"role\":\"user\",\"content\":\"ping\"}]}",
            p -> {},
            200),
        chat(
            "chat JSON, PII masked, answer restored (upstream sends content-length)",
            "{\"model\":\"gpt-4o-mini\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"mail ada@example.com please\"}]}",
            p -> {},
            200),
        chat(
            "chat SSE, PII masked, stream restored (upstream chunked, no content-length)",
            "{\"model\":\"gpt-4o-mini\","
                + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"mail ada@example.com please, thanks\"}]}",
            p -> p.sseChunkChars(5),
            200),
        chat(
            "chat SSE, nothing to restore",
            "{\"model\":\"fast\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story\"}]}",
            p -> p.sseChunkChars(6),
            200),
        chat(
            "unknown model: immediate 404 after the body",
            "{\"model\":\"no-such-model\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            p -> {},
            404),
        new Exchange(
            "wrong content-type: immediate 415 on headers",
            "POST",
            "/v1/chat/completions",
            List.of(Map.entry("content-type", "text/plain"), Map.entry("content-length", "2")),
            "hi",
            p -> {},
            415),
        scripted(
            "scripted: STREAMED asked on request headers, response body replaced",
            "streamed-early",
            200),
        scripted(
            "scripted: STREAMED asked on response headers, body replaced, provider's content-length kept",
            "streamed-keep-length",
            500),
        scripted(
            "scripted: STREAMED asked on response headers, body replaced, content-length removed",
            "streamed-drop-length",
            200),
        scripted(
            "scripted: BUFFERED asked on response headers, body replaced, provider's content-length kept",
            "buffered-keep-length",
            500),
        scripted(
            "scripted: header mutations, route cache cleared, metadata, immediate 403 on response headers",
            "mutations-then-refusal",
            403,
            Map.entry("x-remove-me", "gone"),
            Map.entry("x-tags", "first"),
            Map.entry("x-keep", "client")));
  }

  /** Answers the ext_proc streams of the exchanges named by {@link ScriptedFront#SCRIPT_HEADER}. */
  private static final Map<String, Function<ProcessingRequest, ScriptedFront.Script>> SCRIPTS =
      Map.of(
          "streamed-early",
              ScriptedFront.streamedSuffix(ScriptedFront.OverrideAt.REQUEST_HEADERS, "\n", false),
          "streamed-keep-length",
              ScriptedFront.streamedSuffix(ScriptedFront.OverrideAt.RESPONSE_HEADERS, "\n", false),
          "streamed-drop-length",
              ScriptedFront.streamedSuffix(ScriptedFront.OverrideAt.RESPONSE_HEADERS, "\n", true),
          "buffered-keep-length", ScriptedFront.bufferedReplacement("{\"replaced\":true}"),
          "mutations-then-refusal", ScriptedFront.mutationsThenRefusal());

  @SafeVarargs
  private static Exchange scripted(
      String name, String script, int status, Map.Entry<String, String>... extraHeaders) {
    Exchange chat = chat(
        name,
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}",
        p -> {},
        status);
    List<Map.Entry<String, String>> headers = new ArrayList<>(chat.headers());
    headers.add(Map.entry(ScriptedFront.SCRIPT_HEADER, script));
    headers.addAll(List.of(extraHeaders));
    return new Exchange(
        name, chat.method(), chat.path(), headers, chat.body(), chat.provider(), status);
  }

  private static Exchange chat(
      String name, String body, Consumer<MockProvider> provider, int status) {
    int length = body.getBytes(StandardCharsets.UTF_8).length;
    return new Exchange(
        name,
        "POST",
        "/v1/chat/completions",
        List.of(
            Map.entry("content-type", "application/json"),
            Map.entry("content-length", Integer.toString(length))),
        body,
        provider,
        status);
  }

  @BeforeAll
  static void start() throws Exception {
    recorder = new RecordingInterceptor();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    extProc = ExtProcServer.start(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        Duration.ofSeconds(1),
        new PolicyStore(PolicyLoader.parse(POLICY, "DriverDifferentialTest")),
        List.of(PiiProtection.listener(registry, new byte[32]), TokenCounting.listener(registry)),
        new ExtProcMetrics(registry));
    productionChannel = ManagedChannelBuilder.forAddress("127.0.0.1", extProc.port())
        .usePlaintext()
        .build();
    front = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new ScriptedFront(productionChannel, SCRIPTS))
        .intercept(recorder)
        .build()
        .start();
    driverChannel = ManagedChannelBuilder.forAddress("127.0.0.1", front.getPort())
        .usePlaintext()
        .build();
    envoyMock = MockProvider.start("127.0.0.1", 0, Duration.ZERO);
    driverMock = MockProvider.start("127.0.0.1", 0, Duration.ZERO);
    listenerPort = FreePorts.next();
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--listener-port=" + listenerPort,
          "--ext-proc=127.0.0.1:" + front.getPort(),
          "--providers=mock=" + envoyMock.baseUrl(),
          "--default-provider=mock",
          "--store=memory",
          "--admin-token=differential-admin-token-0123"
        },
        Map.of());
    controlPlane = ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
    envoy = EnvoyProcess.start(EnvoyRuntime.detect().orElseThrow(), controlPlane.xdsPort(), work);
    await("Envoy's listener from LDS answers")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> envoy
                .admin("/config_dump?resource=dynamic_listeners")
                .body()
                .contains("\"active_state\"")
            && RawHttp.send(
                        "127.0.0.1",
                        listenerPort,
                        "GET",
                        "/healthz-probe",
                        List.of(Map.entry("host", "probe")),
                        new byte[0])
                    .status()
                > 0);
    // The mock numbers its answers ("id"): the driver's mock answers as many probes, so both count
    // alike.
    for (int i = envoyMock.received().size(); i > 0; i--) {
      RawHttp.send(
          "127.0.0.1",
          driverMock.port(),
          "GET",
          "/healthz-probe",
          List.of(Map.entry("host", "probe")),
          new byte[0]);
    }
    envoyMock.clearReceived();
    driverMock.clearReceived();
    driver = EnvoyExtProcDriver.builder(driverChannel)
        .filterConfig(pushedExtProcConfig())
        .build();
    routerRemoves = pushedRequestHeadersToRemove();
  }

  /**
   * The headers the pushed route configuration removes when Envoy's router forwards a request. The
   * driver stops where the router starts, so the test's upstream plays that part of the router.
   */
  private static Set<String> pushedRequestHeadersToRemove() {
    Set<String> names = new TreeSet<>();
    for (RouteConfiguration routes :
        controlPlane.publisher().lastSnapshot().routes().resources().values()) {
      names.addAll(routes.getRequestHeadersToRemoveList());
      for (VirtualHost vhost : routes.getVirtualHostsList()) {
        names.addAll(vhost.getRequestHeadersToRemoveList());
      }
    }
    return Set.copyOf(names);
  }

  /** The ext_proc filter config inside the listener the control plane pushed to this Envoy. */
  private static ExternalProcessor pushedExtProcConfig() throws Exception {
    Listener listener = controlPlane
        .publisher()
        .lastSnapshot()
        .listeners()
        .resources()
        .values()
        .iterator()
        .next();
    HttpConnectionManager hcm = listener
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
    for (HttpFilter filter : hcm.getHttpFiltersList()) {
      if (filter.getName().equals(EnvoyExtProcDriver.FILTER_NAME)) {
        return filter.getTypedConfig().unpack(ExternalProcessor.class);
      }
    }
    throw new AssertionError(
        "the pushed listener has no " + EnvoyExtProcDriver.FILTER_NAME + " filter: " + hcm);
  }

  @AfterAll
  static void stop() throws Exception {
    if (envoy != null) {
      envoy.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
    if (driverChannel != null) {
      driverChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (front != null) {
      front.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (productionChannel != null) {
      productionChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (extProc != null) {
      extProc.close();
    }
    if (envoyMock != null) {
      envoyMock.close();
    }
    if (driverMock != null) {
      driverMock.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exchanges")
  void extProcAndTheClientSeeTheSameThroughTheDriverAsThroughEnvoy(Exchange exchange)
      throws Exception {
    byte[] body = exchange.body().getBytes(StandardCharsets.UTF_8);

    envoyMock.reset();
    exchange.provider().accept(envoyMock);
    int before = recorder.streams().size();
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    headers.add(Map.entry("host", authority()));
    headers.addAll(exchange.headers());
    RawHttp.Response viaEnvoy =
        RawHttp.send("127.0.0.1", listenerPort, exchange.method(), exchange.path(), headers, body);
    RecordingInterceptor.Recorded envoyStream = onlyStreamSince(before);
    List<MockProvider.Received> envoyUpstream = envoyMock.received();
    envoyMock.clearReceived();

    driverMock.reset();
    exchange.provider().accept(driverMock);
    before = recorder.streams().size();
    DownstreamRequest.Builder request = DownstreamRequest.builder()
        .method(exchange.method())
        .path(exchange.path())
        .authority(authority())
        .scheme("http");
    exchange.headers().forEach(h -> request.header(h.getKey(), h.getValue()));
    if (body.length > 0) {
      request.chunk(ByteString.copyFrom(body));
    }
    ExchangeResult viaDriver =
        driver.exchange(request.build(), DriverDifferentialTest::forwardToDriverMock);
    RecordingInterceptor.Recorded driverStream = onlyStreamSince(before);
    List<MockProvider.Received> driverUpstream = driverMock.received();
    driverMock.clearReceived();

    String context = " (expected: through Envoy; actual: through the driver; driver notes: "
        + viaDriver.notes() + ")";
    assertThat(viaEnvoy.status()).as("status through Envoy").isEqualTo(exchange.status());
    assertThat(view(driverStream.requests))
        .as("what ext-proc received" + context)
        .isEqualTo(view(envoyStream.requests));
    assertThat(upstreamView(driverUpstream))
        .as("what reached the provider" + context)
        .isEqualTo(upstreamView(envoyUpstream));
    if (renderedByLocalReplyMapper(viaEnvoy)) {
      // The listener's local_reply_config rewrote Envoy's own reply into the API's error shape; the
      // driver does not model those mappers (package-info: known differences), so only the status
      // and the way the stream ended must agree.
      assertThat(viaDriver.clientResponse().status() + " reset="
              + viaDriver.clientResponse().reset())
          .as("what the client received, before Envoy's local reply mapper" + context)
          .isEqualTo(viaEnvoy.status() + " reset=" + viaEnvoy.reset());
      return;
    }
    assertThat(clientView(viaDriver.clientResponse()))
        .as("what the client received" + context)
        .isEqualTo(clientView(viaEnvoy));
  }

  /** Whether Envoy's answer is one of its own replies that the listener's mappers put into an API shape. */
  private static boolean renderedByLocalReplyMapper(RawHttp.Response response) {
    return response.headers().stream()
        .anyMatch(h -> h.getKey().equals("x-llmgw-error") && h.getValue().equals("gateway_error"));
  }

  private static String authority() {
    return "127.0.0.1:" + listenerPort;
  }

  private static RecordingInterceptor.Recorded onlyStreamSince(int before)
      throws InterruptedException {
    await("a Process stream opened")
        .atMost(STREAM_END)
        .until(() -> recorder.streams().size() > before);
    List<RecordingInterceptor.Recorded> streams = recorder.streams();
    assertThat(streams).as("Process streams opened for one exchange").hasSize(before + 1);
    return streams.get(before).awaitEnd(STREAM_END);
  }

  /**
   * The driver's upstream: the request as it left the driver, with the headers the route config
   * removes taken out as Envoy's router would, sent to this run's own mock provider.
   */
  private static UpstreamResponse forwardToDriverMock(UpstreamRequest request) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    String method = null;
    String path = null;
    for (Headers.Entry h : request.headers().entries()) {
      switch (h.name()) {
        case ":method" -> method = h.value();
        case ":path" -> path = h.value();
        case ":authority" -> headers.add(0, Map.entry("host", h.value()));
        default -> {
          if (!h.name().startsWith(":") && !routerRemoves.contains(h.name())) {
            headers.add(Map.entry(h.name(), h.value()));
          }
        }
      }
    }
    RawHttp.Response answer;
    try {
      answer = RawHttp.send(
          "127.0.0.1", driverMock.port(), method, path, headers, request.body().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    UpstreamResponse.Builder response = UpstreamResponse.builder(answer.status())
        // What Envoy's ext_proc filter evaluates for an answer of the provider "mock" (whose host
        // the control plane tags with its name): the driver does not evaluate CEL.
        .attribute(ServedBy.ATTRIBUTE, "mock");
    answer.headers().forEach(h -> response.header(h.getKey(), h.getValue()));
    answer.chunks().forEach(c -> response.chunk(ByteString.copyFrom(c)));
    if (answer.headers().stream().anyMatch(h -> h.getKey().equals("content-length"))) {
      // The mock writes such an answer at once: it reaches Envoy before ext-proc answers its
      // headers
      // (the scripts that depend on it make sure by answering late).
      response.bodyWithHeaders();
    }
    return response.build();
  }

  /**
   * What ext-proc received, one line per message, with headers sorted and {@link #ENVOY_ADDED}
   * dropped, and each run of response body messages folded into one line (Envoy's chunking of a
   * STREAMED body is not modelled): the concatenated bytes, and whether {@code end_of_stream} was set
   * on the last message and on no other.
   */
  static List<String> view(List<ProcessingRequest> requests) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      ProcessingRequest r = requests.get(i);
      if (r.hasResponseBody()) {
        ByteString bytes = ByteString.EMPTY;
        boolean eosOnLastOnly = true;
        Set<String> others = new TreeSet<>();
        for (; i < requests.size() && requests.get(i).hasResponseBody(); i++) {
          HttpBody b = requests.get(i).getResponseBody();
          bytes = bytes.concat(b.getBody());
          boolean last = i + 1 == requests.size() || !requests.get(i + 1).hasResponseBody();
          eosOnLastOnly &= b.getEndOfStream() == last;
          others.add(TextFormat.shortDebugString(
              requests.get(i).toBuilder().clearResponseBody().build()));
        }
        i--;
        lines.add(
            "response_body* | besides the body " + others + " | end_of_stream on the last only: "
                + eosOnLastOnly + " | bytes: " + normalised(bytes.toStringUtf8()));
        continue;
      }
      ProcessingRequest.Builder b = r.toBuilder();
      if (r.hasRequestHeaders()) {
        b.setRequestHeaders(normalised(r.getRequestHeaders()));
      } else if (r.hasResponseHeaders()) {
        b.setResponseHeaders(normalised(r.getResponseHeaders()));
      }
      lines.add(TextFormat.printer().escapingNonAscii(false).shortDebugString(b.build()));
    }
    return lines;
  }

  private static HttpHeaders normalised(HttpHeaders headers) {
    List<HeaderValue> kept = headers.getHeaders().getHeadersList().stream()
        .filter(h -> !envoyAdded(h.getKey()))
        .sorted(Comparator.comparing(HeaderValue::getKey)
            .thenComparing(h -> h.getRawValue().toStringUtf8()))
        .toList();
    return headers.toBuilder()
        .setHeaders(HeaderMap.newBuilder().addAllHeaders(kept))
        .build();
  }

  private static boolean envoyAdded(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return ENVOY_ADDED.contains(lower) || lower.startsWith(ENVOY_ADDED_PREFIX);
  }

  private static String normalised(String body) {
    return MOCK_CLOCK.matcher(body).replaceAll("\"created\":<clock>");
  }

  /** What the provider received: method, path, headers (without Envoy's and {@code host}) and body. */
  private static List<String> upstreamView(List<MockProvider.Received> received) {
    return received.stream()
        .map(r -> {
          Set<String> headers = new TreeSet<>();
          r.headers().forEach((name, values) -> {
            if (!envoyAdded(name) && !name.equals("host")) {
              values.forEach(v -> headers.add(name + ": " + v));
            }
          });
          return r.method() + " " + r.path() + " " + headers + " " + r.bodyText();
        })
        .toList();
  }

  private static String clientView(RawHttp.Response response) {
    Set<String> headers = new TreeSet<>();
    response.headers().forEach(h -> {
      if (!envoyAdded(h.getKey())) {
        headers.add(h.getKey() + ": " + h.getValue());
      }
    });
    return response.status() + " reset=" + response.reset() + " " + headers + "\n"
        + normalised(new String(response.body(), StandardCharsets.UTF_8));
  }

  private static String clientView(ClientResponse response) {
    Set<String> headers = new TreeSet<>();
    response.headers().entries().forEach(h -> {
      if (!h.name().startsWith(":") && !envoyAdded(h.name())) {
        headers.add(h.name() + ": " + h.value());
      }
    });
    return response.status() + " reset=" + response.reset() + " " + headers + "\n"
        + normalised(response.bodyUtf8());
  }
}
