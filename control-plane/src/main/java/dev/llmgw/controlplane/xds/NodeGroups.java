package dev.llmgw.controlplane.xds;

import io.envoyproxy.controlplane.cache.NodeGroup;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Set;

/**
 * Which snapshot an Envoy gets: its fleet's, when its {@code node.cluster} names a fleet some
 * provider or route is restricted to, otherwise the default group's. Envoys of a fleet nobody names
 * get the same configuration as the default group, so a fleet can be introduced by naming it in a
 * document, without restarting anything.
 */
public final class NodeGroups implements NodeGroup<String> {

  private volatile Set<String> fleets = Set.of();

  @Override
  public String hash(Node node) {
    String cluster = node == null ? "" : node.getCluster();
    return fleets.contains(cluster) ? cluster : SnapshotPublisher.DEFAULT_GROUP;
  }

  /** The fleets that have snapshots of their own. */
  public Set<String> fleets() {
    return fleets;
  }

  void fleets(Set<String> named) {
    this.fleets = Set.copyOf(named);
  }
}
