package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy in force. Streams read it once at their start and keep that snapshot, so a change
 * never applies halfway through a request. Updates replace it atomically.
 */
public final class PolicyStore {

  private final AtomicReference<GatewayPolicy> current;

  public PolicyStore(GatewayPolicy initial) {
    this.current = new AtomicReference<>(requireNonNull(initial, "initial"));
  }

  public GatewayPolicy current() {
    return current.get();
  }

  public void replace(GatewayPolicy policy) {
    current.set(requireNonNull(policy, "policy"));
  }
}
