package dev.llmgw.extproc.limits;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import redis.clients.jedis.Jedis;

/**
 * A private {@code redis-server} process on a free loopback port, without persistence, for tests.
 * It never uses a system Redis: each fixture starts and stops its own process, so tests can also
 * kill and restart it.
 */
final class RedisServer implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

  private final Path binary;
  private final Path dir;
  private final int port;
  private Process process;

  private RedisServer(Path binary, Path dir, int port) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
  }

  /** {@code redis-server} on the PATH, else {@code /usr/bin/redis-server}. */
  static Optional<Path> findBinary() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String entry : path.split(java.io.File.pathSeparator)) {
        if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, "redis-server"))) {
          return Optional.of(Path.of(entry, "redis-server"));
        }
      }
    }
    Path usual = Path.of("/usr/bin/redis-server");
    return Files.isExecutable(usual) ? Optional.of(usual) : Optional.empty();
  }

  /** Starts a server on a free port, trying another port if the chosen one was taken meanwhile. */
  static RedisServer start(Path binary) {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      Path dir;
      try {
        dir = Files.createTempDirectory("llmgw-redis-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      RedisServer server = new RedisServer(binary, dir, freePort());
      try {
        server.launch();
        return server;
      } catch (IllegalStateException e) {
        server.close();
        last = e;
      }
    }
    throw last;
  }

  int port() {
    return port;
  }

  String host() {
    return "127.0.0.1";
  }

  /** A plain connection for looking at keys; the caller closes it. */
  Jedis connection() {
    return new Jedis(host(), port);
  }

  /** Kills the process at once, as a crash or network loss would look to clients. */
  void kill() {
    if (process != null) {
      process.destroyForcibly();
      waitFor(process);
      process = null;
    }
  }

  /** A fresh, empty server on the same port, as after a restart without persistence. */
  void restart() {
    kill();
    launch();
  }

  @Override
  public void close() {
    kill();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }

  private void launch() {
    Path log = dir.resolve("redis.log");
    try {
      process = new ProcessBuilder(List.of(
              binary.toString(),
              "--port",
              Integer.toString(port),
              "--bind",
              host(),
              "--save",
              "",
              "--appendonly",
              "no",
              "--dir",
              dir.toString(),
              "--daemonize",
              "no"))
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server on port " + port + " exited with "
            + process.exitValue() + ": " + read(log));
      }
      try (Jedis jedis = connection()) {
        if ("PONG".equals(jedis.ping())) {
          return;
        }
      } catch (RuntimeException notYet) {
        pause();
      }
    }
    kill();
    throw new IllegalStateException("redis-server on port " + port + " did not answer within "
        + START_TIMEOUT + ": " + read(log));
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void waitFor(Process p) {
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Polling interval while the server starts; the only wait in the fixture, never in a test. */
  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for redis-server", e);
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
