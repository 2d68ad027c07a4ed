package dev.llmgw.controlplane.xds;

import io.envoyproxy.controlplane.cache.SnapshotConsistencyException;
import io.envoyproxy.controlplane.cache.v3.Snapshot;

/** Checks a snapshot before it is published. (Interim: java-control-plane's consistency check only.) */
public final class EnvoyContractCheck implements SnapshotPublisher.SnapshotCheck {
  @Override
  public void check(Snapshot snapshot) {
    try {
      snapshot.ensureConsistent();
    } catch (SnapshotConsistencyException e) {
      throw new SnapshotPublisher.InvalidSnapshotException(e.getMessage());
    }
  }
}
