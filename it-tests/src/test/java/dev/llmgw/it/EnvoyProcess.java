package dev.llmgw.it;

import static org.awaitility.Awaitility.await;

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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * A real Envoy running {@code envoy/envoy.yaml} with its ports moved to free ones: a local binary,
 * or the pinned image in a container on the host network (Linux Docker) so both reach the
 * control plane and ext-proc on loopback the same way. Output goes to a log file that is printed
 * when a test fails.
 */
final class EnvoyProcess implements AutoCloseable {

  private final Process process;
  private final GenericContainer<?> container;
  private final Path log;
  final int adminPort;
  final int prometheusPort;

  private EnvoyProcess(
      Process process, GenericContainer<?> container, Path log, int adminPort, int prometheusPort) {
    this.process = process;
    this.container = container;
    this.log = log;
    this.adminPort = adminPort;
    this.prometheusPort = prometheusPort;
  }

  /** Starts Envoy against the control plane's xDS port and waits until it reports ready. */
  static EnvoyProcess start(EnvoyRuntime runtime, int xdsPort, Path workDir) throws IOException {
    return start(runtime, xdsPort, null, null, workDir);
  }

  /**
   * Starts Envoy against the control plane's xDS port, sending {@code xdsToken} (when not null) as ADS
   * initial metadata the way {@code deploy/run-local.sh} does, over mutual TLS with the {@code
   * envoy.crt}, {@code envoy.key} and {@code ca.crt} in {@code tlsDir} (when not null) the way the
   * bootstrap's {@code #tls} lines say, and waits until it reports ready.
   */
  static EnvoyProcess start(
      EnvoyRuntime runtime, int xdsPort, String xdsToken, Path tlsDir, Path workDir)
      throws IOException {
    int adminPort = FreePorts.next();
    int prometheusPort = FreePorts.next();
    String bootstrap = Files.readString(RepoFiles.root().resolve("envoy/envoy.yaml"))
        .replace("port_value: 18000", "port_value: " + xdsPort)
        .replace("port_value: 9901", "port_value: " + adminPort)
        .replace("port_value: 9902", "port_value: " + prometheusPort);
    if (xdsToken != null) {
      bootstrap = bootstrap.replaceFirst(
          "(?m)^      # initial_metadata: .*$",
          "      initial_metadata: [{ key: authorization, value: \"Bearer " + xdsToken + "\" }]");
    }
    if (tlsDir != null) {
      bootstrap = withXdsTls(bootstrap, tlsDir);
    }
    Path config = workDir.resolve("envoy.yaml");
    Files.writeString(config, bootstrap);
    Path log = workDir.resolve("envoy.log");
    List<String> args =
        List.of("-c", "/etc/envoy/envoy.yaml", "--disable-hot-restart", "--log-level", "info");
    EnvoyProcess envoy;
    if (runtime.kind() == EnvoyRuntime.Kind.BINARY) {
      List<String> cmd = new java.util.ArrayList<>(List.of(runtime.location()));
      cmd.addAll(args);
      cmd.set(2, config.toString());
      Process p = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      envoy = new EnvoyProcess(p, null, log, adminPort, prometheusPort);
    } else {
      GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(runtime.location()))
          .withNetworkMode("host")
          .withCopyFileToContainer(MountableFile.forHostPath(config), "/etc/envoy/envoy.yaml")
          .withCommand(List.of("envoy", "-c", "/etc/envoy/envoy.yaml", "--disable-hot-restart")
              .toArray(String[]::new))
          .withLogConsumer(frame -> appendLog(log, frame.getUtf8String()));
      c.start();
      envoy = new EnvoyProcess(null, c, log, adminPort, prometheusPort);
    }
    try {
      // Until Envoy binds its admin port the probe is refused: keep polling, unless Envoy exited.
      await("Envoy admin /ready on port " + adminPort)
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptionsMatching(e -> e instanceof UncheckedIOException)
          .until(() -> {
            if (envoy.process != null && !envoy.process.isAlive()) {
              throw new IllegalStateException(
                  "Envoy exited with code " + envoy.process.exitValue());
            }
            return envoy.admin("/ready").statusCode() == 200;
          });
    } catch (RuntimeException e) {
      String output = envoy.logText();
      envoy.close();
      throw new IllegalStateException("Envoy did not become ready; its log:\n" + output, e);
    }
    return envoy;
  }

  /** The bootstrap with its {@code #tls} lines in force, reading the PEM files from {@code tlsDir}. */
  static String withXdsTls(String bootstrap, Path tlsDir) {
    return bootstrap
        .replaceAll("(?m)^( *)#tls ", "$1")
        .replace("/etc/llmgw/tls/", tlsDir.toAbsolutePath() + "/");
  }

  HttpResponse<String> admin(String path) {
    return get("http://127.0.0.1:" + adminPort + path);
  }

  String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "(no log)";
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  static HttpResponse<String> get(String url) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(url))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void appendLog(Path log, String line) {
    try {
      Files.writeString(
          log,
          line,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (container != null) {
      container.stop();
    }
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
