package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server Envoy connects to: ADS (and the per-kind xDS services, for Envoys configured
 * without ADS) over the snapshot cache, plus {@code grpc.health.v1}. NACKs are logged with
 * Envoy's reason, because a NACK means this control plane produced something Envoy refused.
 */
public final class XdsServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(XdsServer.class);

  private final Server server;
  private final HealthStatusManager health;
  private final Duration shutdownGrace;

  private XdsServer(Server server, HealthStatusManager health, Duration shutdownGrace) {
    this.server = server;
    this.health = health;
    this.shutdownGrace = shutdownGrace;
  }

  /**
   * Starts the server on {@code builder} with the discovery services, health, and {@code
   * extraServices}; with {@code authentication} (null for none) in front of all of them.
   */
  public static XdsServer start(
      ServerBuilder<?> builder,
      SimpleCache<String> cache,
      Duration shutdownGrace,
      @Nullable ServerInterceptor authentication,
      io.grpc.BindableService... extraServices) {
    requireNonNull(builder, "builder");
    requireNonNull(cache, "cache");
    if (authentication != null) {
      builder.intercept(authentication);
    }
    V3DiscoveryServer discovery = new V3DiscoveryServer(List.of(new NackLogger()), cache);
    HealthStatusManager health = new HealthStatusManager();
    builder
        .addService(discovery.getAggregatedDiscoveryServiceImpl())
        .addService(discovery.getClusterDiscoveryServiceImpl())
        .addService(discovery.getEndpointDiscoveryServiceImpl())
        .addService(discovery.getListenerDiscoveryServiceImpl())
        .addService(discovery.getRouteDiscoveryServiceImpl())
        .addService(discovery.getSecretDiscoveryServiceImpl())
        .addService(health.getHealthService());
    for (io.grpc.BindableService service : extraServices) {
      builder.addService(service);
    }
    Server server = builder.build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "control plane could not bind its xDS port: " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    return new XdsServer(server, health, requireNonNull(shutdownGrace, "shutdownGrace"));
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static final class NackLogger implements DiscoveryServerCallbacks {
    @Override
    public void onStreamOpen(long streamId, String typeUrl) {
      log.info("xDS stream {} opened ({})", streamId, typeUrl.isEmpty() ? "ADS" : typeUrl);
    }

    @Override
    public void onStreamClose(long streamId, String typeUrl) {
      log.info("xDS stream {} closed", streamId);
    }

    @Override
    public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
      if (request.hasErrorDetail()) {
        log.warn(
            "NACK from node '{}' for {} version '{}': {}",
            request.getNode().getId(),
            request.getTypeUrl(),
            request.getVersionInfo(),
            request.getErrorDetail().getMessage());
      }
    }

    @Override
    public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
      if (request.hasErrorDetail()) {
        log.warn(
            "NACK (delta) from node '{}' for {}: {}",
            request.getNode().getId(),
            request.getTypeUrl(),
            request.getErrorDetail().getMessage());
      }
    }
  }
}
