package dev.llmgw.controlplane.xds;

import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Translates a whole {@link GatewaySpec} into one complete snapshot. Pure: no I/O, no clock. */
public final class SnapshotFactory {

  static final Duration EXT_PROC_CONNECT_TIMEOUT = Duration.ofSeconds(1);

  private SnapshotFactory() {}

  public static Snapshot snapshot(GatewaySpec spec, String version) {
    List<Cluster> clusters = new ArrayList<>();
    clusters.add(ClusterFactory.extProc(EXT_PROC_CONNECT_TIMEOUT));
    for (Provider p : spec.providers()) {
      clusters.add(ClusterFactory.provider(p, spec.trustedCaFile()));
    }
    return Snapshot.create(
        clusters,
        List.of(EndpointFactory.loadAssignment(XdsNames.EXT_PROC_CLUSTER, spec.extProc())),
        List.of(ListenerFactory.ingress(spec.listenerPort(), spec.extProcMessageTimeout())),
        List.of(RouteFactory.routes(spec.providers(), spec.defaultProvider())),
        List.of(),
        version);
  }
}
