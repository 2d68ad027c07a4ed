package dev.llmgw.extproc.limits;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link RedisServer} per test class. Without a {@code redis-server} binary every test is
 * skipped with a message saying so (per test, so the reason shows in the report; CI installs one);
 * with a binary, failing to start is an error.
 */
final class RedisServerExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {

  static final String MISSING =
      "redis-server not found on PATH or at /usr/bin/redis-server; skipping this Redis "
          + "limit test (install it, e.g. apt-get install -y redis-server)";

  private RedisServer server;

  /** Skips the calling test, with the reason, when there is no redis-server to start. */
  static Path requireBinary() {
    Path binary = RedisServer.findBinary().orElse(null);
    Assumptions.assumeTrue(binary != null, MISSING);
    return binary;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    RedisServer.findBinary().ifPresent(binary -> server = RedisServer.start(binary));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Assumptions.assumeTrue(server != null, MISSING);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  RedisServer server() {
    if (server == null) {
      throw new IllegalStateException(
          "redis-server is not running (expected: used from a test of a class that registers this extension)");
    }
    return server;
  }
}
