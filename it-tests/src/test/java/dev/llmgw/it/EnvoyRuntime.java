package dev.llmgw.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;

/**
 * Where a real Envoy can come from on this machine: a binary named by {@code ENVOY_BIN}, an
 * {@code envoy} on {@code PATH}, or a Docker engine for Testcontainers. When there is none, tests
 * that need Envoy are skipped with {@link #unavailableReason()}.
 */
record EnvoyRuntime(Kind kind, String location) {

  enum Kind { BINARY, CONTAINER }

  /** Envoy image the tests run; pinned in the parent POM to the release the API jar matches. */
  static String image() {
    return System.getProperty("envoy.image", "envoyproxy/envoy:v1.34.1");
  }

  static Optional<EnvoyRuntime> detect() {
    String bin = System.getenv("ENVOY_BIN");
    if (bin != null && !bin.isBlank()) {
      return Files.isExecutable(Path.of(bin)) ? Optional.of(new EnvoyRuntime(Kind.BINARY, bin)) : Optional.empty();
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(dir, "envoy");
        if (!dir.isBlank() && Files.isExecutable(candidate)) {
          return Optional.of(new EnvoyRuntime(Kind.BINARY, candidate.toString()));
        }
      }
    }
    if (dockerAvailable()) {
      return Optional.of(new EnvoyRuntime(Kind.CONTAINER, image()));
    }
    return Optional.empty();
  }

  /** Why no Envoy is available, for the skip message. */
  static String unavailableReason() {
    String bin = System.getenv("ENVOY_BIN");
    if (bin != null && !bin.isBlank() && !Files.isExecutable(Path.of(bin))) {
      return "ENVOY_BIN=" + bin + " is not an executable file";
    }
    return "no Envoy available: ENVOY_BIN is not set, no 'envoy' on PATH, and no Docker engine for Testcontainers "
        + "(image " + image() + "). Set ENVOY_BIN=/path/to/envoy or start Docker to run this test.";
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }
}
