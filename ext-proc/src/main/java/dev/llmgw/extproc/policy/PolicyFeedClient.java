package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the control plane's policy feed and applies each policy it pushes. When the control
 * plane goes away the last good policy stays in force and the watch is retried with backoff (1 s
 * doubling to 30 s). A policy that does not convert is rejected and counted; the last good stays.
 * Versions only move forward: a version older than the one applied is rejected the same way, and
 * the same version again (the control plane resends its current policy on every watch) is ignored.
 */
public final class PolicyFeedClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PolicyFeedClient.class);
  private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final PolicyServiceGrpc.PolicyServiceStub stub;
  private final PolicyStore store;
  private final ExtProcMetrics metrics;
  private final ScheduledExecutorService scheduler;
  private final String nodeId;
  private volatile boolean closed;
  private volatile String appliedVersion = "";
  /** {@link #appliedVersion} as a number; -1 before the first. Only the feed's thread writes it. */
  private volatile long appliedNumber = -1;

  private Duration backoff = MIN_BACKOFF;

  public PolicyFeedClient(
      Channel channel,
      PolicyStore store,
      ExtProcMetrics metrics,
      ScheduledExecutorService scheduler,
      String nodeId) {
    this.stub = PolicyServiceGrpc.newStub(requireNonNull(channel, "channel"));
    this.store = requireNonNull(store, "store");
    this.metrics = requireNonNull(metrics, "metrics");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.nodeId = requireNonNull(nodeId, "nodeId");
  }

  /** Opens the watch; reconnects on its own until closed. */
  public void start() {
    if (closed) {
      return;
    }
    stub.watchPolicy(
        WatchPolicyRequest.newBuilder()
            .setNodeId(nodeId)
            .setKnownVersion(appliedVersion)
            .build(),
        new StreamObserver<>() {
          @Override
          public void onNext(Policy policy) {
            backoff = MIN_BACKOFF;
            apply(policy);
          }

          @Override
          public void onError(Throwable t) {
            retry("policy feed failed: " + Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            retry("policy feed ended by the control plane");
          }
        });
  }

  /** The version of the last policy applied from the feed, or "" before the first. */
  public String appliedVersion() {
    return appliedVersion;
  }

  void apply(Policy policy) {
    long version;
    try {
      version = version(policy.getVersion());
    } catch (IllegalArgumentException e) {
      reject(policy, e.getMessage());
      return;
    }
    if (version <= appliedNumber) {
      if (version < appliedNumber) {
        reject(
            policy,
            "older than version " + appliedVersion + " applied (versions only move "
                + "forward; restart ext-proc to follow a control plane whose store was reset)");
      }
      return; // the version applied already, sent again when the watch reconnects
    }
    try {
      GatewayPolicy converted = FeedPolicy.convert(policy);
      store.replace(converted);
      appliedNumber = version;
      appliedVersion = policy.getVersion();
      metrics.policyLoad(true);
      log.info(
          "policy version {} applied from the control plane ({} models)",
          policy.getVersion(),
          converted.models().size());
    } catch (IllegalArgumentException | NullPointerException e) {
      reject(policy, e.getMessage());
    }
  }

  private void reject(Policy policy, @Nullable String why) {
    metrics.policyLoad(false);
    log.error(
        "rejected policy version {} from the control plane: {}; keeping policy version {}",
        policy.getVersion(),
        why,
        store.current().version());
  }

  /** A feed version: the control plane's store version, a whole number that only grows. */
  private static long version(String version) {
    try {
      long v = Long.parseLong(version);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("version: '" + version
        + "' (expected: a whole number >= 0, the control plane's store version)");
  }

  private void retry(String why) {
    if (closed) {
      return;
    }
    Duration wait = backoff;
    backoff =
        backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    log.warn(
        "{}; keeping policy version {}; retrying in {}", why, store.current().version(), wait);
    scheduler.schedule(this::start, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    closed = true;
  }
}
