package dev.llmgw.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates files of the repository, wherever Maven or an IDE runs the tests from. */
final class RepoFiles {

  private RepoFiles() {}

  /** The repository root: the {@code gateway.repo.root} property Maven sets, else the nearest parent with envoy/ and it-tests/. */
  static Path root() {
    String configured = System.getProperty("gateway.repo.root");
    if (configured != null
        && !configured.isBlank()
        && Files.isDirectory(Path.of(configured, "envoy"))) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("envoy")) && Files.isDirectory(p.resolve("it-tests"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the repository root (expected: system property gateway.repo.root, or a parent directory with envoy/ and it-tests/)");
  }
}
