package dev.llmgw.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.mockprovider.MockProvider;
import dev.llmgw.tls.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whole gateway as operators run it, on free loopback ports: the control plane and ext-proc as
 * child JVMs from their executable jars (ext-proc on the control plane's policy feed, the xDS port
 * behind Envoy's and ext-proc's own bearer tokens; optionally everything between them on mutual
 * TLS), a real Envoy on {@code envoy/envoy.yaml}, and mock providers the test controls. Everything
 * is configured the production way, over the control plane's REST API.
 */
final class Gateway implements AutoCloseable {

  static final String ADMIN_TOKEN = "e2e-admin-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration START = Duration.ofSeconds(90);
  private static final Pattern APPLIED = Pattern.compile("policy version (\\d+) applied");

  final Path work;
  final Map<String, MockProvider> providers;
  final int listenerPort;
  final int xdsPort;
  final int restPort;
  final int extProcPort;
  final int extProcMetricsPort;
  final JavaService controlPlane;
  final JavaService extProc;
  final EnvoyProcess envoy;
  /** The CA the certificates in {@link #tlsDir} come from, or null without mutual TLS. */
  final TestPki pki;
  /**
   * With mutual TLS: {@code ca.crt}, and {@code <name>.crt}/{@code <name>.key} for {@code ext-proc},
   * {@code control-plane} and {@code envoy} (Envoy's for both of its links); else null.
   */
  final Path tlsDir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Gateway(
      Path work,
      Map<String, MockProvider> providers,
      int listenerPort,
      int xdsPort,
      int restPort,
      int extProcPort,
      int extProcMetricsPort,
      JavaService controlPlane,
      JavaService extProc,
      EnvoyProcess envoy,
      TestPki pki,
      Path tlsDir) {
    this.work = work;
    this.providers = providers;
    this.listenerPort = listenerPort;
    this.xdsPort = xdsPort;
    this.restPort = restPort;
    this.extProcPort = extProcPort;
    this.extProcMetricsPort = extProcMetricsPort;
    this.controlPlane = controlPlane;
    this.extProc = extProc;
    this.envoy = envoy;
    this.pki = pki;
    this.tlsDir = tlsDir;
  }

  /**
   * Starts everything with one mock provider per name (the first is the default provider), waits
   * until Envoy serves the listener and ext-proc runs the control plane's policy.
   */
  static Gateway start(
      Path work, List<String> providerNames, List<String> extProcArgs, boolean mutualTls)
      throws IOException {
    Map<String, MockProvider> mocks = new LinkedHashMap<>();
    for (String name : providerNames) {
      mocks.put(name, MockProvider.start("127.0.0.1", 0, Duration.ZERO));
    }
    int listenerPort = FreePorts.next();
    int xdsPort = FreePorts.next();
    int restPort = FreePorts.next();
    int extProcPort = FreePorts.next();
    int metricsPort = FreePorts.next();
    String xdsToken = "e2e-xds-token-" + Long.toHexString(System.nanoTime()) + "-0123456789";
    Path tokenFile = work.resolve("xds-token");
    Files.writeString(tokenFile, xdsToken);
    Path extProcTokenFile = work.resolve("ext-proc-token");
    Files.writeString(
        extProcTokenFile, "e2e-ext-proc-token-" + Long.toHexString(System.nanoTime()) + "-0123");
    TestPki pki = mutualTls ? TestPki.newCa("llmgw e2e CA " + work.getFileName()) : null;
    Path tlsDir = mutualTls ? Files.createDirectories(work.resolve("tls")) : null;
    List<String> cpTls = new ArrayList<>();
    List<String> epTls = new ArrayList<>();
    if (mutualTls) {
      pki.writeCertificate(tlsDir.resolve("ca.crt"));
      for (String name : List.of("ext-proc", "control-plane", "envoy")) {
        pki.issue(name, "127.0.0.1", "localhost")
            .writeTo(tlsDir.resolve(name + ".crt"), tlsDir.resolve(name + ".key"));
      }
      cpTls.addAll(List.of(
          "--xds-tls-cert-file=" + tlsDir.resolve("control-plane.crt"),
          "--xds-tls-key-file=" + tlsDir.resolve("control-plane.key"),
          "--xds-tls-client-ca-file=" + tlsDir.resolve("ca.crt"),
          "--ext-proc-client-cert-file=" + tlsDir.resolve("envoy.crt"),
          "--ext-proc-client-key-file=" + tlsDir.resolve("envoy.key"),
          "--ext-proc-ca-file=" + tlsDir.resolve("ca.crt")));
      epTls.addAll(List.of(
          "--tls-cert-file=" + tlsDir.resolve("ext-proc.crt"),
          "--tls-key-file=" + tlsDir.resolve("ext-proc.key"),
          "--tls-client-ca-file=" + tlsDir.resolve("ca.crt"),
          "--control-plane-ca-file=" + tlsDir.resolve("ca.crt")));
    }
    StringBuilder seed = new StringBuilder();
    mocks.forEach((name, mock) ->
        seed.append(seed.length() == 0 ? "" : ",").append(name).append('=').append(mock.baseUrl()));
    List<String> cpArgs = new ArrayList<>(List.of(
        "--xds-port=" + xdsPort,
        "--admin-port=" + restPort,
        "--bind-host=127.0.0.1",
        "--listener-port=" + listenerPort,
        "--ext-proc=127.0.0.1:" + extProcPort,
        "--providers=" + seed,
        "--default-provider=" + providerNames.get(0),
        "--data-dir=" + work.resolve("control-plane"),
        "--admin-token=" + ADMIN_TOKEN,
        "--xds-token-file=" + tokenFile,
        "--ext-proc-token-file=" + extProcTokenFile,
        "--shutdown-grace-seconds=1"));
    cpArgs.addAll(cpTls);
    JavaService cp = JavaService.start("control-plane", cpArgs, work.resolve("control-plane.log"));
    List<String> epArgs = new ArrayList<>(List.of(
        "--bind-host=127.0.0.1",
        "--grpc-port=" + extProcPort,
        "--metrics-port=" + metricsPort,
        "--control-plane=127.0.0.1:" + xdsPort,
        "--control-plane-token-file=" + extProcTokenFile,
        "--spend-spool-dir=" + work.resolve("spend-spool"),
        "--shutdown-grace-seconds=1"));
    epArgs.addAll(epTls);
    epArgs.addAll(extProcArgs);
    JavaService ep = JavaService.start("ext-proc", epArgs, work.resolve("ext-proc.log"));
    EnvoyProcess envoy = null;
    try {
      awaitHttp("control plane /healthz", "http://127.0.0.1:" + restPort + "/healthz", cp);
      envoy =
          EnvoyProcess.start(EnvoyRuntime.detect().orElseThrow(), xdsPort, xdsToken, tlsDir, work);
      Gateway gateway = new Gateway(
          work,
          mocks,
          listenerPort,
          xdsPort,
          restPort,
          extProcPort,
          metricsPort,
          cp,
          ep,
          envoy,
          pki,
          tlsDir);
      gateway.awaitConfigApplied();
      // The readiness probe went through to the default provider; tests start from an empty log.
      mocks.values().forEach(MockProvider::clearReceived);
      return gateway;
    } catch (RuntimeException | IOException e) {
      String logs = "\n--- control plane ---\n" + cp.logText() + "\n--- ext-proc ---\n"
          + ep.logText() + (envoy == null ? "" : "\n--- envoy ---\n" + envoy.logText());
      if (envoy != null) {
        envoy.close();
      }
      ep.close();
      cp.close();
      mocks.values().forEach(MockProvider::close);
      throw new IllegalStateException("the gateway did not start: " + e.getMessage() + logs, e);
    }
  }

  private static void awaitHttp(String what, String url, JavaService service) {
    await(what)
        .atMost(START)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(() -> {
          if (!service.isAlive()) {
            throw new IllegalStateException(what + ": the process exited");
          }
          return EnvoyProcess.get(url).statusCode() == 200;
        });
  }

  MockProvider provider(String name) {
    MockProvider mock = providers.get(name);
    if (mock == null) {
      throw new IllegalArgumentException(
          "provider: " + name + " (expected: one of " + providers.keySet() + ")");
    }
    return mock;
  }

  /** The store version the control plane runs ({@code /healthz}'s snapshot version before the dash). */
  long storeVersion() {
    String snapshot = json(EnvoyProcess.get("http://127.0.0.1:" + restPort + "/healthz")
            .body())
        .path("snapshotVersion")
        .asText();
    return Long.parseLong(snapshot.substring(0, snapshot.indexOf('-')));
  }

  /**
   * Waits until the gateway serves: Envoy's listener from LDS is active and answers, and ext-proc
   * runs the policy of the control plane's current store version.
   */
  void awaitConfigApplied() {
    await("Envoy's listener active and ext-proc on the current policy")
        .atMost(START)
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> envoy
                .admin("/config_dump?resource=dynamic_listeners")
                .body()
                .contains("\"active_state\"")
            && appliedPolicyVersion() >= storeVersion()
            && EnvoyProcess.get(url("/")).statusCode() > 0);
  }

  /** Waits until ext-proc runs the policy of the control plane's current store version. */
  void awaitPolicyApplied() {
    await("ext-proc applies policy version " + storeVersion())
        .atMost(START)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> appliedPolicyVersion() >= storeVersion());
  }

  /**
   * Waits until Envoy's config_dump of {@code resource} ({@code dynamic_route_configs},
   * {@code dynamic_active_clusters}, ...) contains {@code needle}. Envoy is only sent resource types
   * whose content changed, so a version number alone cannot tell that a change arrived.
   */
  void awaitEnvoyHas(String resource, String needle) {
    await("Envoy's " + resource + " has " + needle)
        .atMost(START)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> envoy.admin("/config_dump?resource=" + resource).body().contains(needle));
  }

  /** The newest policy version ext-proc's log says it applied, or -1. */
  long appliedPolicyVersion() {
    Matcher m = APPLIED.matcher(extProc.logText());
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    return last;
  }

  /** A call of the control plane's REST API with the admin token; fails on a non-2xx answer. */
  JsonNode rest(String method, String path, String body) {
    HttpResponse<String> r = restCall(method, path, body);
    if (r.statusCode() / 100 != 2) {
      throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body());
    }
    return r.body().isEmpty() ? JSON.nullNode() : json(r.body());
  }

  HttpResponse<String> restCall(String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + restPort + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + ADMIN_TOKEN)
        .header("content-type", "application/json")
        .method(
            method,
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
    return send(b.build());
  }

  /** PUTs a policy document (model alias, budget, rate limit, PII policy, key) and waits until ext-proc runs it. */
  JsonNode put(String path, String body) {
    JsonNode answer = rest("PUT", path, body);
    awaitPolicyApplied();
    return answer;
  }

  /** PUTs a route and waits until Envoy routes on it and ext-proc knows it. */
  JsonNode putRoute(String name, String body) {
    JsonNode answer = rest("PUT", "/v1/routes/" + name, body);
    awaitEnvoyHas("dynamic_route_configs", "\"name\": \"route_" + name + "\"");
    awaitPolicyApplied();
    return answer;
  }

  /** PUTs a provider and waits until Envoy has its cluster. */
  JsonNode putProvider(String name, String body) {
    long before = storeVersion();
    JsonNode answer = rest("PUT", "/v1/providers/" + name, body);
    String version = "\"version_info\": \"" + storeVersion() + "-";
    await("Envoy's cluster llmgw_provider_" + name + " at store version " + storeVersion())
        .atMost(START)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> clusterDump(name).contains(version) || storeVersion() == before);
    awaitPolicyApplied();
    return answer;
  }

  private String clusterDump(String provider) {
    String dump = envoy
        .admin("/config_dump?resource=dynamic_active_clusters&name_regex=llmgw_provider_" + provider
            + "$")
        .body();
    return dump;
  }

  /** A client request through Envoy's listener. */
  HttpResponse<String> post(String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path)))
        .timeout(Duration.ofSeconds(60))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return send(b.build());
  }

  String url(String path) {
    return "http://127.0.0.1:" + listenerPort + path;
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      try {
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      } catch (IOException e) {
        // The JDK client can pick a pooled connection Envoy is closing at that moment (after a
        // local
        // reply to an unread request body, Envoy closes the connection) and gets no answer at all;
        // Envoy answers every request it reads, so this one is sent once more on a new connection.
        // Any other failure is the test's.
        if (!String.valueOf(e.getMessage()).contains("header parser received no bytes")) {
          throw e;
        }
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          request.method() + " " + request.uri() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Envoy's JSON access-log lines, oldest first. */
  List<JsonNode> accessLog() {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : envoy.logText().split("\n")) {
      if (line.startsWith("{") && line.contains("\"request_id\"")) {
        lines.add(json(line));
      }
    }
    return lines;
  }

  /** Envoy's stats in Prometheus form, from the listener the bootstrap exposes for scraping. */
  String prometheus() {
    return EnvoyProcess.get("http://127.0.0.1:" + envoy.prometheusPort + "/metrics")
        .body();
  }

  /** One Envoy counter or gauge from {@code /stats}, 0 when Envoy has not created it. */
  long stat(String name) {
    String body = envoy.admin("/stats?filter=" + name).body();
    for (String line : body.split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  /**
   * What must hold over a gateway's whole life: Envoy rejected no configuration the control plane
   * sent (every {@code update_rejected} counter is 0) and logged no use of a deprecated field.
   */
  void assertEnvoyAcceptedEverything() {
    List<String> rejected = new ArrayList<>();
    for (String line : envoy.admin("/stats?filter=update_rejected").body().split("\n")) {
      if (line.contains("update_rejected: ") && !line.endsWith(": 0")) {
        rejected.add(line);
      }
    }
    List<String> deprecated = new ArrayList<>();
    for (String line : envoy.logText().split("\n")) {
      if (!line.startsWith("{") && line.toLowerCase(java.util.Locale.ROOT).contains("deprecated")) {
        deprecated.add(line);
      }
    }
    if (!rejected.isEmpty() || !deprecated.isEmpty()) {
      throw new AssertionError("Envoy NACKed configuration " + rejected
          + " or warned of deprecated fields " + deprecated);
    }
  }

  String extProcMetrics() {
    return EnvoyProcess.get("http://127.0.0.1:" + extProcMetricsPort + "/metrics")
        .body();
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + text, e);
    }
  }

  /** Everything a failed test needs to be understood, as one text: logs, Envoy's config, what the mocks received. */
  String diagnostics() {
    StringBuilder d = new StringBuilder();
    d.append("=== Envoy log ===\n").append(envoy.logText());
    d.append("\n=== Envoy config_dump ===\n");
    try {
      d.append(envoy.admin("/config_dump").body());
    } catch (RuntimeException e) {
      d.append("(unavailable: ").append(e.getMessage()).append(')');
    }
    d.append("\n=== control plane log ===\n").append(controlPlane.logText());
    d.append("\n=== ext-proc log ===\n").append(extProc.logText());
    providers.forEach((name, mock) -> {
      d.append("\n=== mock provider '").append(name).append("' request log ===\n");
      for (MockProvider.Received r : mock.received()) {
        d.append(r.method())
            .append(' ')
            .append(r.path())
            .append(' ')
            .append(r.headers())
            .append('\n')
            .append(abbreviate(r.bodyText()))
            .append('\n');
      }
    });
    return d.toString();
  }

  private static String abbreviate(String s) {
    return s.length() <= 2000 ? s : s.substring(0, 2000) + "... (" + s.length() + " chars)";
  }

  @Override
  public void close() {
    envoy.close();
    extProc.close();
    controlPlane.close();
    providers.values().forEach(MockProvider::close);
  }
}
