package dev.llmgw.controlplane.mockprovider;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code mock-provider} subcommand of the control-plane jar: serves {@link MockProvider} until
 * SIGTERM, so a newcomer without a provider key gets answers through the whole gateway.
 */
public final class MockProviderMain {

  private static final Logger log = LoggerFactory.getLogger(MockProviderMain.class);

  private MockProviderMain() {}

  /**
   * Runs until the JVM is asked to stop.
   *
   * @param args the flags after {@code mock-provider}: {@code --port}, {@code --bind-host}, {@code --latency-ms}
   */
  public static void main(String[] args) throws InterruptedException {
    MockProviderConfig config;
    try {
      config = MockProviderConfig.fromArgs(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("mock-provider: " + e.getMessage());
      System.exit(2);
      return;
    }
    MockProvider provider;
    try {
      provider = MockProvider.start(config.bindHost(), config.port(), config.latency());
    } catch (UncheckedIOException e) {
      IOException cause = requireNonNull(e.getCause(), "an UncheckedIOException has a cause");
      System.err.println(e.getMessage() + ": " + cause.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(
            () -> {
              provider.close();
              log.info("mock provider stopped");
              stopped.countDown();
            },
            "mock-provider-shutdown"));
    log.info(
        "mock provider up: {} (latency {} ms)",
        provider.baseUrl(),
        config.latency().toMillis());
    // The server's threads are daemons; the main thread holds the JVM until shutdown.
    stopped.await();
  }
}
