package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.cost.PriceCatalog;
import dev.llmgw.extproc.limits.LimitsConfig;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.pii.EntityType;
import dev.llmgw.extproc.pii.PiiPolicies;
import dev.llmgw.extproc.pii.PiiPolicy;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.IdentityHeaders;
import dev.llmgw.proto.policy.v1.PiiOnError;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.UnknownModel;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
    try {
      GatewayPolicy converted = convert(policy);
      store.replace(converted);
      appliedVersion = policy.getVersion();
      metrics.policyLoad(true);
      log.info(
          "policy version {} applied from the control plane ({} models)",
          policy.getVersion(),
          converted.models().size());
    } catch (IllegalArgumentException | NullPointerException e) {
      metrics.policyLoad(false);
      log.error(
          "rejected policy version {} from the control plane: {}; keeping policy version {}",
          policy.getVersion(),
          e.getMessage(),
          store.current().version());
    }
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

  /** The feed's policy in ext-proc's terms; unset fields take the documented defaults. */
  public static GatewayPolicy convert(Policy p) {
    GatewayPolicy.IdentityHeaders d = GatewayPolicy.IdentityHeaders.DEFAULT;
    IdentityHeaders h = p.getIdentityHeaders();
    GatewayPolicy.IdentityHeaders identity = new GatewayPolicy.IdentityHeaders(
        or(h.getTenant(), d.tenant()),
        or(h.getApplication(), d.application()),
        or(h.getUser(), d.user()),
        or(h.getApiKey(), d.apiKey()));
    Map<String, ModelTarget> models = new HashMap<>();
    p.getModelsMap().forEach((k, v) -> models.put(k, new ModelTarget(v.getRoute(), v.getModel())));
    Map<String, Map<String, ModelTarget>> tenants = new HashMap<>();
    p.getTenantModelsMap().forEach((tenant, m) -> {
      Map<String, ModelTarget> forTenant = new HashMap<>();
      m.getModelsMap()
          .forEach((k, v) -> forTenant.put(k, new ModelTarget(v.getRoute(), v.getModel())));
      tenants.put(tenant, forTenant);
    });
    Map<String, GatewayPolicy.FailureMode> routeModes = new HashMap<>();
    p.getRouteFailureModesMap().forEach((route, mode) -> routeModes.put(route, failureMode(mode)));
    return new GatewayPolicy(
        p.getVersion().isEmpty() ? "feed" : "feed-" + p.getVersion(),
        p.getMaxRequestBodyBytes() == 0
            ? GatewayPolicy.DEFAULT_MAX_REQUEST_BODY_BYTES
            : p.getMaxRequestBodyBytes(),
        identity,
        models,
        tenants,
        p.getUnknownModel() == UnknownModel.PASS_THROUGH
            ? GatewayPolicy.UnknownModel.PASS_THROUGH
            : GatewayPolicy.UnknownModel.REJECT,
        failureMode(p.getFailureMode()),
        routeModes,
        p.getIncludeStreamUsage(),
        piiPolicies(p),
        p.hasLimits() ? limits(p.getLimits()) : LimitsConfig.NONE,
        p.hasPrices() && p.getPrices().getModelsCount() > 0
            ? PriceCatalog.builtIn().overriddenBy(prices(p.getPrices()))
            : PriceCatalog.builtIn(),
        keys(p));
  }

  private static Map<String, KeyIdentity> keys(Policy p) {
    Map<String, KeyIdentity> keys = new HashMap<>();
    p.getKeysMap()
        .forEach((fingerprint, k) ->
            keys.put(fingerprint, new KeyIdentity(k.getTenant(), k.getApplication(), k.getUser())));
    return keys;
  }

  /** The feed's limits in the policy file's shape, so both are validated by {@link LimitsConfig#fromMap}. */
  private static LimitsConfig limits(dev.llmgw.proto.policy.v1.Limits l) {
    List<Map<String, Object>> budgets = new ArrayList<>();
    for (dev.llmgw.proto.policy.v1.Budget b : l.getBudgetsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", scope(b.getScope()));
      m.put("id", b.getId());
      m.put(
          "period",
          switch (b.getPeriod()) {
            case BUDGET_PERIOD_DAILY -> "daily";
            case BUDGET_PERIOD_MONTHLY -> "monthly";
            default -> "unspecified";
          });
      m.put("limit_usd", b.getLimitUsd());
      m.put("alert_thresholds", List.copyOf(b.getAlertThresholdsList()));
      if (!b.getDowngradeTo().isEmpty()) {
        m.put("downgrade_to", b.getDowngradeTo());
      }
      budgets.add(m);
    }
    List<Map<String, Object>> rates = new ArrayList<>();
    for (dev.llmgw.proto.policy.v1.RateLimit r : l.getRatesList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", scope(r.getScope()));
      m.put("id", r.getId());
      m.put("tokens_per_minute", r.getTokensPerMinute());
      m.put("requests_per_minute", r.getRequestsPerMinute());
      rates.add(m);
    }
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("budgets", budgets);
    map.put("rates", rates);
    Map<String, Object> onError = new LinkedHashMap<>();
    storeFailure(l.getBudgetStoreFailure()).ifPresent(v -> onError.put("budgets", v));
    storeFailure(l.getRateStoreFailure()).ifPresent(v -> onError.put("rates", v));
    if (!onError.isEmpty()) {
      map.put("on_store_error", onError);
    }
    return LimitsConfig.fromMap(map);
  }

  private static String scope(dev.llmgw.proto.policy.v1.LimitScope scope) {
    return switch (scope) {
      case LIMIT_SCOPE_API_KEY -> "api_key";
      case LIMIT_SCOPE_TENANT -> "tenant";
      case LIMIT_SCOPE_ROUTE -> "route";
      default -> "unspecified";
    };
  }

  private static java.util.Optional<String> storeFailure(dev.llmgw.proto.policy.v1.StoreFailure f) {
    return switch (f) {
      case STORE_FAIL_CLOSED -> java.util.Optional.of("fail_closed");
      case STORE_FAIL_OPEN -> java.util.Optional.of("fail_open");
      default -> java.util.Optional.empty();
    };
  }

  /** The feed's prices as a catalog document, so they are validated as the built-in file is. */
  private static PriceCatalog prices(dev.llmgw.proto.policy.v1.PriceList list) {
    com.fasterxml.jackson.databind.node.ObjectNode doc =
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    doc.put("version", list.getVersion().isEmpty() ? "control-plane" : list.getVersion());
    com.fasterxml.jackson.databind.node.ObjectNode models = doc.putObject("models");
    list.getModelsMap().forEach((model, price) -> {
      com.fasterxml.jackson.databind.node.ObjectNode m = models.putObject(model);
      putIfSet(m, "input", price.getInput());
      putIfSet(m, "cached_input", price.getCachedInput());
      putIfSet(m, "cache_write", price.getCacheWrite());
      putIfSet(m, "cache_write_1h", price.getCacheWrite1H());
      putIfSet(m, "output", price.getOutput());
      putIfSet(m, "reasoning", price.getReasoning());
      putIfSet(m, "source", price.getSource());
      putIfSet(m, "as_of", price.getAsOf());
      putIfSet(m, "note", price.getNote());
    });
    return PriceCatalog.parse(doc.toString(), "control plane prices");
  }

  private static void putIfSet(
      com.fasterxml.jackson.databind.node.ObjectNode node, String field, String value) {
    if (!value.isEmpty()) {
      node.put(field, value);
    }
  }

  private static PiiPolicies piiPolicies(Policy p) {
    Map<String, PiiPolicy> routes = new HashMap<>();
    p.getRoutePiiMap()
        .forEach((route, policy) -> routes.put(route, piiPolicy(policy, "route_pii." + route)));
    Map<String, PiiPolicy> tenants = new HashMap<>();
    p.getTenantPiiMap()
        .forEach(
            (tenant, policy) -> tenants.put(tenant, piiPolicy(policy, "tenant_pii." + tenant)));
    return new PiiPolicies(
        p.hasPiiDefault() ? piiPolicy(p.getPiiDefault(), "pii_default") : null, routes, tenants);
  }

  private static PiiPolicy piiPolicy(dev.llmgw.proto.policy.v1.PiiPolicy p, String where) {
    Map<EntityType, PiiPolicy.Action> actions = new EnumMap<>(EntityType.class);
    p.getEntitiesMap().forEach((tag, action) -> {
      try {
        actions.put(
            EntityType.fromTag(tag),
            switch (action) {
              case PII_MASK -> PiiPolicy.Action.MASK;
              case PII_REDACT -> PiiPolicy.Action.REDACT;
              case PII_HASH -> PiiPolicy.Action.HASH;
              case PII_BLOCK -> PiiPolicy.Action.BLOCK;
              default -> PiiPolicy.Action.ALLOW;
            });
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ".entities: " + e.getMessage(), e);
      }
    });
    PiiPolicy.ResponseScan scan = switch (p.getResponse()) {
      case PII_RESPONSE_FLAG -> PiiPolicy.ResponseScan.FLAG;
      case PII_RESPONSE_MASK -> PiiPolicy.ResponseScan.MASK;
      default -> PiiPolicy.ResponseScan.OFF;
    };
    try {
      return new PiiPolicy(
          actions,
          !p.hasRestore() || p.getRestore(),
          p.getOnError() == PiiOnError.PII_ON_ERROR_ALLOW
              ? PiiPolicy.OnError.ALLOW
              : PiiPolicy.OnError.BLOCK,
          scan,
          p.getBlockStatus() == 0 ? 400 : p.getBlockStatus());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static GatewayPolicy.FailureMode failureMode(FailureMode mode) {
    return mode == FailureMode.FAIL_OPEN
        ? GatewayPolicy.FailureMode.FAIL_OPEN
        : GatewayPolicy.FailureMode.FAIL_CLOSED;
  }

  private static String or(String value, String fallback) {
    return value.isEmpty() ? fallback : value.toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void close() {
    closed = true;
  }
}
