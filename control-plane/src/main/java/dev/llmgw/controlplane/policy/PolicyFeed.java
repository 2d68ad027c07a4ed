package dev.llmgw.controlplane.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code llmgw.policy.v1.PolicyService}: every ext-proc that watches gets the current policy at
 * once and every later one as soon as it is published. Served on the xDS port.
 */
public final class PolicyFeed extends PolicyServiceGrpc.PolicyServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(PolicyFeed.class);

  private final AtomicReference<Policy> current = new AtomicReference<>();
  private final Set<ServerCallStreamObserver<Policy>> watchers = ConcurrentHashMap.newKeySet();

  /** Makes {@code policy} current and pushes it to every watcher. */
  public void publish(Policy policy) {
    current.set(requireNonNull(policy, "policy"));
    for (ServerCallStreamObserver<Policy> w : watchers) {
      send(w, policy);
    }
  }

  /** The policy last published, or null before the first. */
  public @Nullable Policy current() {
    return current.get();
  }

  public int watchers() {
    return watchers.size();
  }

  @Override
  public void watchPolicy(WatchPolicyRequest request, StreamObserver<Policy> responses) {
    ServerCallStreamObserver<Policy> observer = (ServerCallStreamObserver<Policy>) responses;
    observer.setOnCancelHandler(() -> {
      watchers.remove(observer);
      log.info("ext-proc '{}' stopped watching the policy", request.getNodeId());
    });
    watchers.add(observer);
    log.info(
        "ext-proc '{}' watches the policy (knows version '{}')",
        request.getNodeId(),
        request.getKnownVersion());
    Policy now = current.get();
    if (now != null) {
      send(observer, now);
    }
  }

  private void send(ServerCallStreamObserver<Policy> w, Policy policy) {
    synchronized (w) {
      try {
        if (!w.isCancelled()) {
          w.onNext(policy);
        }
      } catch (RuntimeException e) {
        watchers.remove(w);
        log.warn("dropping a policy watcher: {}", e.getMessage());
      }
    }
  }
}
