package dev.llmgw.controlplane;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control plane as a child JVM, for tests that kill it with -9: started on free ports over a data
 * directory, with its log read until it names its ports and drained afterwards so it never blocks.
 */
final class ControlPlaneProcess {

  private static final Pattern PORTS =
      Pattern.compile("xDS \\(ADS\\) on port (\\d+), REST on port (\\d+)");

  final Process process;
  final int xdsPort;
  final int restPort;

  private ControlPlaneProcess(Process process, int xdsPort, int restPort) {
    this.process = process;
    this.xdsPort = xdsPort;
    this.restPort = restPort;
  }

  /** Starts a control plane over {@code dataDir} with admin token {@code token}; waits until it listens. */
  static ControlPlaneProcess start(Path dataDir, String token) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            ControlPlaneMain.class.getName(),
            "--xds-port=0",
            "--admin-port=0",
            "--bind-host=127.0.0.1",
            "--ext-proc=127.0.0.1:9002",
            "--data-dir=" + dataDir,
            "--admin-token=" + token))
        .redirectErrorStream(true)
        .start();
    try {
      Matcher ports = awaitLine(p, PORTS);
      return new ControlPlaneProcess(
          p, Integer.parseInt(ports.group(1)), Integer.parseInt(ports.group(2)));
    } catch (Exception e) {
      p.destroyForcibly();
      throw e;
    }
  }

  /** kill -9, and wait until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  long pid() {
    return process.pid();
  }

  /** Reads the child's log until a line matches; keeps draining it afterwards. */
  private static Matcher awaitLine(Process p, Pattern pattern) throws Exception {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Matcher> found = CompletableFuture.supplyAsync(() -> {
      try {
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
          seen.append(line).append('\n');
          Matcher m = pattern.matcher(line);
          if (m.find()) {
            Thread drain = new Thread(() -> {
              try {
                while (out.readLine() != null) {
                  // keep the pipe from filling up
                }
              } catch (IOException ignored) {
                // process gone
              }
            });
            drain.setDaemon(true);
            drain.start();
            return m;
          }
        }
        throw new IllegalStateException("control plane exited before listening:\n" + seen);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    return found.get(60, TimeUnit.SECONDS);
  }
}
