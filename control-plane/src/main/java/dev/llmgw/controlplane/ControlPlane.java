package dev.llmgw.controlplane;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.rest.AdminApi;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import dev.llmgw.controlplane.xds.XdsServer;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.grpc.ServerBuilder;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * One running control plane: snapshot cache, publisher, xDS server and REST API, wired together.
 * The composition root; tests start it on free ports and close it.
 */
public final class ControlPlane implements AutoCloseable {

  private final SnapshotPublisher publisher;
  private final XdsServer xds;
  private final AdminApi admin;

  private ControlPlane(SnapshotPublisher publisher, XdsServer xds, AdminApi admin) {
    this.publisher = publisher;
    this.xds = xds;
    this.admin = admin;
  }

  /** Starts the servers and publishes the first snapshot; {@code xdsServer} carries the xDS port. */
  public static ControlPlane start(ControlPlaneConfig config, ServerBuilder<?> xdsServer, SnapshotPublisher.SnapshotCheck check) {
    requireNonNull(config, "config");
    SimpleCache<String> cache = new SimpleCache<>(node -> SnapshotPublisher.DEFAULT_GROUP);
    SnapshotPublisher publisher = new SnapshotPublisher(cache, check, 0);
    publisher.publish(spec(config));
    XdsServer xds = XdsServer.start(xdsServer, cache, config.shutdownGrace());
    AdminApi admin;
    try {
      admin = AdminApi.start(config.bindHost(), config.adminPort(), publisher);
    } catch (RuntimeException e) {
      xds.close();
      throw e;
    }
    return new ControlPlane(publisher, xds, admin);
  }

  /** The spec the startup settings describe, with ext-proc addresses resolved for EDS. */
  static GatewaySpec spec(ControlPlaneConfig config) {
    return new GatewaySpec(
        config.listenerPort(),
        config.extProc().stream().map(ControlPlane::resolve).toList(),
        config.extProcMessageTimeout(),
        config.providers(),
        config.defaultProvider(),
        config.trustedCaFile());
  }

  /** EDS endpoints must be IP addresses (Envoy does not resolve them), so names are resolved here. */
  private static Endpoint resolve(Endpoint e) {
    try {
      return new Endpoint(InetAddress.getByName(e.host()).getHostAddress(), e.port());
    } catch (UnknownHostException ex) {
      throw new IllegalArgumentException("ext-proc: cannot resolve '" + e.host() + "' (expected: a resolvable name or an IP address)", ex);
    }
  }

  public SnapshotPublisher publisher() {
    return publisher;
  }

  public int xdsPort() {
    return xds.port();
  }

  public int adminPort() {
    return admin.port();
  }

  /** Stops taking requests, then lets open xDS streams end within the grace period. */
  @Override
  public void close() {
    admin.close();
    xds.close();
  }

  static List<String> describe(ControlPlane cp) {
    return List.of("xDS (ADS) on port " + cp.xdsPort(), "REST on port " + cp.adminPort());
  }
}
