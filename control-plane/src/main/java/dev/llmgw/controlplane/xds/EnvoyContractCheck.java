package dev.llmgw.controlplane.xds;

import dev.llmgw.controlplane.xds.validation.CrossReferenceChecker;
import dev.llmgw.controlplane.xds.validation.EnvoyValidator;
import dev.llmgw.controlplane.xds.validation.Violation;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * The check every snapshot passes before it is published: Envoy's own PGV rules over every
 * resource (through every nested Any), then the cross-reference check that the snapshot is whole.
 * A failure lists every problem, so one rejected change shows all that is wrong with it.
 */
public final class EnvoyContractCheck implements SnapshotPublisher.SnapshotCheck {

  private final EnvoyValidator validator = new EnvoyValidator();
  private final CrossReferenceChecker references = CrossReferenceChecker.standalone();

  @Override
  public void check(Snapshot snapshot) {
    List<String> problems = new ArrayList<>();
    for (Violation v : validator.validate(snapshot)) {
      problems.add(v.toString());
    }
    problems.addAll(references.check(snapshot));
    if (!problems.isEmpty()) {
      throw new SnapshotPublisher.InvalidSnapshotException(
          "snapshot version " + snapshot.clusters().version() + " would be rejected by Envoy:\n  - "
              + String.join("\n  - ", problems));
    }
  }
}
