package dev.llmgw.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One of the gateway's services as a child JVM started from the executable jar the build produced
 * ({@code <module>/target/llmgw-<module>-*-all.jar}), exactly as operators run it. Its output goes to
 * a log file that survives restarts (appended), for assertions and for the failure report. It can be
 * stopped gracefully (SIGTERM) or killed (-9) and started again with the same arguments.
 */
final class JavaService implements AutoCloseable {

  private final String module;
  private final List<String> args;
  private final Path log;
  private Process process;

  private JavaService(String module, List<String> args, Path log) {
    this.module = module;
    this.args = List.copyOf(args);
    this.log = log;
  }

  /** Starts {@code module}'s jar with {@code args}; does not wait for it to serve. */
  static JavaService start(String module, List<String> args, Path log) {
    JavaService service = new JavaService(module, args, log);
    service.start();
    return service;
  }

  /** The module's executable jar; the reactor builds it in the package phase, before it-tests run. */
  static Path jar(String module) {
    Path target = RepoFiles.root().resolve(module).resolve("target");
    try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
      return files
          .filter(p -> p.getFileName().toString().matches("llmgw-" + module + "-.*-all\\.jar"))
          .findFirst()
          .orElseThrow(() ->
              new IllegalStateException("no executable jar in " + target + " (expected: llmgw-"
                  + module + "-<version>-all.jar; run 'mvn -B package -DskipTests' first)"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  synchronized void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(module + " is already running");
    }
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // Small heaps and one GC thread: the tests run two of these, Envoy and the test JVM on two
        // cores.
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-jar",
        jar(module).toString()));
    cmd.addAll(args);
    try {
      process = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + module, e);
    }
  }

  /** kill -9: no shutdown hook runs, open streams break. */
  synchronized void kill() {
    stop(true);
  }

  /** SIGTERM and wait: the service drains and exits as it would under an orchestrator. */
  synchronized void terminate() {
    stop(false);
  }

  private void stop(boolean force) {
    if (process == null) {
      return;
    }
    if (force) {
      process.destroyForcibly();
    } else {
      process.destroy();
    }
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "(no log)";
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  Path log() {
    return log;
  }

  @Override
  public void close() {
    terminate();
  }
}
