package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.IdentityHeaders;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.UnknownModel;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the control plane's policy feed and applies each policy it pushes. When the control
 * plane goes away the last good policy stays in force and the watch is retried with backoff (1 s
 * doubling to 30 s). A policy that does not convert is rejected and counted; the last good stays.
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
  private Duration backoff = MIN_BACKOFF;

  public PolicyFeedClient(Channel channel, PolicyStore store, ExtProcMetrics metrics, ScheduledExecutorService scheduler,
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
    stub.watchPolicy(WatchPolicyRequest.newBuilder().setNodeId(nodeId).setKnownVersion(appliedVersion).build(),
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
    try {
      GatewayPolicy converted = convert(policy);
      store.replace(converted);
      appliedVersion = policy.getVersion();
      metrics.policyLoad(true);
      log.info("policy version {} applied from the control plane ({} models)", policy.getVersion(), converted.models().size());
    } catch (IllegalArgumentException | NullPointerException e) {
      metrics.policyLoad(false);
      log.error("rejected policy version {} from the control plane: {}; keeping policy version {}",
          policy.getVersion(), e.getMessage(), store.current().version());
    }
  }

  private void retry(String why) {
    if (closed) {
      return;
    }
    Duration wait = backoff;
    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    log.warn("{}; keeping policy version {}; retrying in {}", why, store.current().version(), wait);
    scheduler.schedule(this::start, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The feed's policy in ext-proc's terms; unset fields take the documented defaults. */
  public static GatewayPolicy convert(Policy p) {
    GatewayPolicy.IdentityHeaders d = GatewayPolicy.IdentityHeaders.DEFAULT;
    IdentityHeaders h = p.getIdentityHeaders();
    GatewayPolicy.IdentityHeaders identity = new GatewayPolicy.IdentityHeaders(
        or(h.getTenant(), d.tenant()), or(h.getApplication(), d.application()), or(h.getUser(), d.user()), or(h.getApiKey(), d.apiKey()));
    Map<String, ModelTarget> models = new HashMap<>();
    p.getModelsMap().forEach((k, v) -> models.put(k, new ModelTarget(v.getRoute(), v.getModel())));
    Map<String, Map<String, ModelTarget>> tenants = new HashMap<>();
    p.getTenantModelsMap().forEach((tenant, m) -> {
      Map<String, ModelTarget> forTenant = new HashMap<>();
      m.getModelsMap().forEach((k, v) -> forTenant.put(k, new ModelTarget(v.getRoute(), v.getModel())));
      tenants.put(tenant, forTenant);
    });
    Map<String, GatewayPolicy.FailureMode> routeModes = new HashMap<>();
    p.getRouteFailureModesMap().forEach((route, mode) -> routeModes.put(route, failureMode(mode)));
    return new GatewayPolicy(
        p.getVersion().isEmpty() ? "feed" : "feed-" + p.getVersion(),
        p.getMaxRequestBodyBytes() == 0 ? GatewayPolicy.DEFAULT_MAX_REQUEST_BODY_BYTES : p.getMaxRequestBodyBytes(),
        identity,
        models,
        tenants,
        p.getUnknownModel() == UnknownModel.PASS_THROUGH ? GatewayPolicy.UnknownModel.PASS_THROUGH : GatewayPolicy.UnknownModel.REJECT,
        failureMode(p.getFailureMode()),
        routeModes,
        p.getIncludeStreamUsage());
  }

  private static GatewayPolicy.FailureMode failureMode(FailureMode mode) {
    return mode == FailureMode.FAIL_OPEN ? GatewayPolicy.FailureMode.FAIL_OPEN : GatewayPolicy.FailureMode.FAIL_CLOSED;
  }

  private static String or(String value, String fallback) {
    return value.isEmpty() ? fallback : value.toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void close() {
    closed = true;
  }
}
