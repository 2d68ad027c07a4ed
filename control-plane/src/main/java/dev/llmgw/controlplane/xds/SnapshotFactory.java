package dev.llmgw.controlplane.xds;

import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Translates a whole {@link GatewaySpec} into one complete snapshot. Pure: no I/O, no clock. */
public final class SnapshotFactory {

  static final Duration EXT_PROC_CONNECT_TIMEOUT = Duration.ofSeconds(1);

  private SnapshotFactory() {}

  public static Snapshot snapshot(GatewaySpec spec, String version) {
    List<Cluster> clusters = new ArrayList<>();
    ExtProcTls extProcTls = spec.extProcTls();
    clusters.add(ClusterFactory.extProc(EXT_PROC_CONNECT_TIMEOUT, extProcTls));
    List<Secret> secrets = new ArrayList<>();
    if (extProcTls != null) {
      secrets.addAll(SecretFactory.extProcTls(extProcTls));
    }
    for (Provider p : spec.providers()) {
      double budget = spec.routes().stream()
          .filter(r -> r.retry() != null
              && r.targets().stream().anyMatch(t -> t.provider().equals(p.name())))
          .mapToDouble(r -> r.retry().budgetPercent())
          .max()
          .orElse(ClusterFactory.DEFAULT_RETRY_BUDGET_PERCENT);
      clusters.add(ClusterFactory.provider(p, spec.trustedCaFile(), budget));
      if (p.credential() != null) {
        secrets.add(SecretFactory.credential(p));
      }
    }
    for (Route r : spec.routes()) {
      if (r.isFailover()) {
        clusters.add(ClusterFactory.failover(
            r.name(),
            r.byPriority().stream()
                .map(t -> XdsNames.providerCluster(t.provider()))
                .toList()));
      }
    }
    return Snapshot.create(
        clusters,
        List.of(EndpointFactory.loadAssignment(XdsNames.EXT_PROC_CLUSTER, spec.extProc())),
        List.of(ListenerFactory.ingress(spec.listenerPort(), spec.extProcMessageTimeout())),
        List.of(RouteFactory.routes(
            spec.providers(),
            spec.defaultProvider(),
            spec.routes(),
            spec.identityHeaders(),
            spec.failOpen())),
        secrets,
        version);
  }
}
