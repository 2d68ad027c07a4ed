package dev.llmgw.extproc.server;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyStore;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The running ext-proc gRPC server: the ext_proc service plus the standard {@code grpc.health.v1}
 * service. Takes a {@link ServerBuilder} so tests can pass an in-process one.
 */
public final class ExtProcServer implements AutoCloseable {

  /** Health service name Envoy or Kubernetes can probe in addition to the overall "" status. */
  public static final String HEALTH_SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor";

  /** Largest ext_proc message accepted: the largest request body a policy allows, plus 1 MiB of headers and framing. */
  static final int MAX_GRPC_MESSAGE_BYTES = GatewayPolicy.MAX_REQUEST_BODY_BYTES + 1024 * 1024;

  private final Server server;
  private final HealthStatusManager health;
  private final Duration shutdownGrace;

  private ExtProcServer(Server server, HealthStatusManager health, Duration shutdownGrace) {
    this.server = server;
    this.health = health;
    this.shutdownGrace = shutdownGrace;
  }

  /** A server with the built-in pass-through policy, no listeners and private metrics: for tests and tools. */
  public static ExtProcServer start(ServerBuilder<?> builder, Duration shutdownGrace) {
    return start(
        builder,
        shutdownGrace,
        new PolicyStore(GatewayPolicy.passThrough()),
        List.of(),
        new ExtProcMetrics(new SimpleMeterRegistry()));
  }

  /** Builds and starts the server; it reports SERVING once it accepts streams. */
  public static ExtProcServer start(
      ServerBuilder<?> builder,
      Duration shutdownGrace,
      PolicyStore policies,
      List<ExchangeListener> listeners,
      ExtProcMetrics metrics) {
    requireNonNull(builder, "builder");
    requireNonNull(shutdownGrace, "shutdownGrace");
    HealthStatusManager health = new HealthStatusManager();
    Server server = builder
        // A buffered request body arrives as one message; room for the largest a policy allows,
        // plus framing.
        .maxInboundMessageSize(MAX_GRPC_MESSAGE_BYTES)
        .addService(new ExternalProcessorService(policies, listeners, metrics))
        .addService(health.getHealthService())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("ext-proc could not bind its gRPC port: " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(HEALTH_SERVICE_NAME, ServingStatus.SERVING);
    return new ExtProcServer(server, health, shutdownGrace);
  }

  /** Port the server is bound to, or -1 for transports without one (in-process). */
  public int port() {
    return server.getPort();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Reports NOT_SERVING, stops taking new streams, lets running ones finish within the grace period. */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
