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
 *
 * <p>Versions only move forward on every watch: a watch that opens while a policy is being
 * published may see the new policy from {@link #publish} before its own first send runs, and that
 * send, holding the older policy, is then skipped. A version is the store version as a decimal
 * number; {@link #publish} refuses one older than the current.
 */
public final class PolicyFeed extends PolicyServiceGrpc.PolicyServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(PolicyFeed.class);

  /** One open watch and the newest version sent on it. */
  private static final class Watch {
    final ServerCallStreamObserver<Policy> observer;
    long sent = -1;

    Watch(ServerCallStreamObserver<Policy> observer) {
      this.observer = observer;
    }
  }

  private final AtomicReference<Policy> current = new AtomicReference<>();
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final Runnable beforeFirstSend;

  public PolicyFeed() {
    this(() -> {});
  }

  /**
   * For tests: {@code beforeFirstSend} runs when a new watch has read the current policy and is
   * about to send it, the moment a concurrent {@link #publish} can overtake that first send.
   */
  PolicyFeed(Runnable beforeFirstSend) {
    this.beforeFirstSend = requireNonNull(beforeFirstSend, "beforeFirstSend");
  }

  /**
   * Makes {@code policy} current and pushes it to every watcher.
   *
   * @throws IllegalArgumentException if its version is not a number, or older than the current one
   */
  public void publish(Policy policy) {
    long version = version(requireNonNull(policy, "policy"));
    Policy before = current.getAndUpdate(c -> c == null || version(c) <= version ? policy : c);
    if (before != null && version(before) > version) {
      throw new IllegalArgumentException("policy version " + version
          + " is older than the published version " + before.getVersion()
          + " (expected: versions that only move forward)");
    }
    for (Watch w : watches) {
      send(w, policy, version);
    }
  }

  /** The policy last published, or null before the first. */
  public @Nullable Policy current() {
    return current.get();
  }

  public int watchers() {
    return watches.size();
  }

  @Override
  public void watchPolicy(WatchPolicyRequest request, StreamObserver<Policy> responses) {
    Watch watch = new Watch((ServerCallStreamObserver<Policy>) responses);
    watch.observer.setOnCancelHandler(() -> {
      watches.remove(watch);
      log.info("ext-proc '{}' stopped watching the policy", request.getNodeId());
    });
    watches.add(watch);
    log.info(
        "ext-proc '{}' watches the policy (knows version '{}')",
        request.getNodeId(),
        request.getKnownVersion());
    Policy now = current.get();
    if (now != null) {
      beforeFirstSend.run();
      send(watch, now, version(now));
    }
  }

  private void send(Watch w, Policy policy, long version) {
    synchronized (w) {
      if (version <= w.sent) {
        return; // this watch has this version or a newer one already
      }
      try {
        if (!w.observer.isCancelled()) {
          w.observer.onNext(policy);
          w.sent = version;
        }
      } catch (RuntimeException e) {
        watches.remove(w);
        log.warn("dropping a policy watcher: {}", e.getMessage());
      }
    }
  }

  private static long version(Policy policy) {
    try {
      return Long.parseLong(policy.getVersion());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "policy version '" + policy.getVersion()
              + "' (expected: the store version, a whole number)",
          e);
    }
  }
}
