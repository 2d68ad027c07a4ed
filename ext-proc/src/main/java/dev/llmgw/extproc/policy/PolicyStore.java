package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

/**
 * The policy in force. Streams read it once at their start and keep that snapshot, so a change
 * never applies halfway through a request. Updates replace it atomically.
 */
public final class PolicyStore {

  private volatile GatewayPolicy current;

  public PolicyStore(GatewayPolicy initial) {
    this.current = requireNonNull(initial, "initial");
  }

  public GatewayPolicy current() {
    return current;
  }

  public void replace(GatewayPolicy policy) {
    current = requireNonNull(policy, "policy");
  }
}
