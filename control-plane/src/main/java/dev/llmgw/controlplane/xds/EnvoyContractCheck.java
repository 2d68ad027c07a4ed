package dev.llmgw.controlplane.xds;

import io.envoyproxy.controlplane.cache.v3.Snapshot;

/**
 * Checks a snapshot before it is published. Interim: accepts everything until the PGV and
 * cross-reference checks land. (java-control-plane's own ensureConsistent() is not usable: it only
 * recognises the long-deprecated filter name "envoy.http_connection_manager" and so sees no RDS
 * references in listeners that use the current name.)
 */
public final class EnvoyContractCheck implements SnapshotPublisher.SnapshotCheck {
  @Override
  public void check(Snapshot snapshot) {
  }
}
