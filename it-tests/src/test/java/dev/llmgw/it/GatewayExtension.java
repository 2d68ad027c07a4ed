package dev.llmgw.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One {@link Gateway} for a test class, started before its first test and stopped after its last.
 * When a test fails, Envoy's log, its config_dump, both services' logs and every mock's request log
 * are written to {@code it-tests/target/e2e/<class>/<test>.diagnostics.txt} and printed, so the
 * report says what happened. After the last test, the class fails if Envoy rejected any
 * configuration (NACK) or warned of a deprecated field while it ran.
 */
final class GatewayExtension implements BeforeAllCallback, AfterAllCallback, TestWatcher {

  private final List<String> providers;
  private final List<String> extProcArgs;
  private final boolean mutualTls;
  private Gateway gateway;

  private GatewayExtension(List<String> providers, List<String> extProcArgs, boolean mutualTls) {
    this.providers = List.copyOf(providers);
    this.extProcArgs = List.copyOf(extProcArgs);
    this.mutualTls = mutualTls;
  }

  /** A gateway with one mock provider per name; the first is the default provider. */
  static GatewayExtension withProviders(String... names) {
    return new GatewayExtension(List.of(names), List.of(), false);
  }

  /** The same gateway with extra ext-proc flags. */
  GatewayExtension extProcArgs(String... args) {
    return new GatewayExtension(providers, List.of(args), mutualTls);
  }

  /**
   * The same gateway with mutual TLS on ext-proc's gRPC port and the control plane's xDS port,
   * certificates from a CA made for the test class ({@link Gateway#pki}).
   */
  GatewayExtension mutualTls() {
    return new GatewayExtension(providers, extProcArgs, true);
  }

  Gateway get() {
    if (gateway == null) {
      throw new IllegalStateException(
          "the gateway is not running (register this extension as a static field)");
    }
    return gateway;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    Path work = workDir(context.getRequiredTestClass().getSimpleName());
    gateway = Gateway.start(work, providers, extProcArgs, mutualTls);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (gateway == null) {
      return;
    }
    try {
      gateway.assertEnvoyAcceptedEverything();
    } finally {
      gateway.close();
      gateway = null;
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    if (gateway == null) {
      return;
    }
    Path file =
        gateway.work.resolve(context.getRequiredTestMethod().getName() + ".diagnostics.txt");
    String diagnostics = gateway.diagnostics();
    try {
      Files.writeString(file, diagnostics);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.println(
        "[E2E DIAGNOSTICS] " + context.getDisplayName() + " failed; full diagnostics in " + file);
    System.out.println(
        diagnostics.length() <= 200_000
            ? diagnostics
            : diagnostics.substring(diagnostics.length() - 200_000));
  }

  private static Path workDir(String name) throws IOException {
    Path dir = RepoFiles.root().resolve("it-tests/target/e2e").resolve(name);
    if (Files.exists(dir)) {
      try (Stream<Path> old = Files.walk(dir)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    return Files.createDirectories(dir);
  }
}
