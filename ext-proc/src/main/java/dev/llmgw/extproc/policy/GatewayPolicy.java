package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.cost.PriceCatalog;
import dev.llmgw.extproc.limits.LimitsConfig;
import dev.llmgw.extproc.pii.PiiPolicies;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Everything ext-proc decides with, shared read-only by all streams and replaced atomically.
 *
 * @param version opaque version, logged and exported as a metric tag
 * @param maxRequestBodyBytes largest request body accepted; larger ones get a 413
 * @param identityHeaders request headers carrying tenant, application, user and API key
 * @param models client model name (alias or real name) to the route and the model sent
 * @param tenantModels per-tenant entries that win over {@code models}
 * @param unknownModel what to do with a model name the policy does not list
 * @param failureMode default for internal failures
 * @param routeFailureModes per-route overrides of {@code failureMode}, by route header value
 * @param includeStreamUsage add {@code stream_options.include_usage=true} to streaming OpenAI chat and completions
 * @param pii PII policies: default, per route and per tenant
 * @param limits budgets and token rate limits
 * @param prices the price catalog exchanges are priced with: the built-in one, with the operator's
 *     entries laid over it
 * @param keys registered API keys by fingerprint ({@code key_} + 12 hex digits), with whom they belong to
 */
public record GatewayPolicy(
    String version,
    int maxRequestBodyBytes,
    IdentityHeaders identityHeaders,
    Map<String, ModelTarget> models,
    Map<String, Map<String, ModelTarget>> tenantModels,
    UnknownModel unknownModel,
    FailureMode failureMode,
    Map<String, FailureMode> routeFailureModes,
    boolean includeStreamUsage,
    PiiPolicies pii,
    LimitsConfig limits,
    PriceCatalog prices,
    Map<String, KeyIdentity> keys) {

  /** Handling of a model the policy does not list. */
  public enum UnknownModel {
    REJECT,
    PASS_THROUGH
  }

  /** Internal failure handling: answer 502, or let the request go on unprocessed. */
  public enum FailureMode {
    FAIL_CLOSED,
    FAIL_OPEN
  }

  /** Header names (lower case) that carry identity; null for one that is not used. */
  public record IdentityHeaders(String tenant, String application, String user, String apiKey) {
    public static final IdentityHeaders DEFAULT = new IdentityHeaders(
        "x-llmgw-tenant", "x-llmgw-application", "x-llmgw-user", "x-llmgw-api-key");
  }

  /**
   * The largest request body any policy may accept, and the default. The other limits on the way
   * are aligned on it: the control plane gives Envoy's listener a buffer of this plus 1 MiB (so
   * bodies a little over it still reach ext-proc and get its 413 in the caller's API shape), and
   * ext-proc's gRPC server takes messages of that size plus framing ({@code ExtProcServer}).
   */
  public static final int MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

  public static final int DEFAULT_MAX_REQUEST_BODY_BYTES = MAX_REQUEST_BODY_BYTES;

  public GatewayPolicy {
    requireNonNull(version, "version");
    requireNonNull(identityHeaders, "identityHeaders");
    requireNonNull(unknownModel, "unknownModel");
    requireNonNull(failureMode, "failureMode");
    requireNonNull(pii, "pii");
    requireNonNull(limits, "limits");
    requireNonNull(prices, "prices");
    keys = Map.copyOf(requireNonNull(keys, "keys"));
    keys.keySet().forEach(k -> {
      if (!k.matches("key_[0-9a-f]{12}")) {
        throw new IllegalArgumentException(
            "keys: '" + k + "' (expected: an API key fingerprint, key_ and 12 hex digits)");
      }
    });
    models = Map.copyOf(requireNonNull(models, "models"));
    tenantModels = tenantModels.entrySet().stream()
        .collect(java.util.stream.Collectors.toUnmodifiableMap(
            Map.Entry::getKey, e -> Map.copyOf(e.getValue())));
    routeFailureModes = Map.copyOf(requireNonNull(routeFailureModes, "routeFailureModes"));
    if (maxRequestBodyBytes <= 0 || maxRequestBodyBytes > MAX_REQUEST_BODY_BYTES) {
      throw new IllegalArgumentException("maxRequestBodyBytes: " + maxRequestBodyBytes
          + " (expected: > 0 and <= " + MAX_REQUEST_BODY_BYTES
          + ", the limit Envoy's buffer and ext-proc's gRPC server are sized for)");
    }
  }

  /** A policy with no models that passes every model through: what ext-proc runs before any policy arrives. */
  public static GatewayPolicy passThrough() {
    return new GatewayPolicy(
        "builtin-pass-through",
        DEFAULT_MAX_REQUEST_BODY_BYTES,
        IdentityHeaders.DEFAULT,
        Map.of(),
        Map.of(),
        UnknownModel.PASS_THROUGH,
        FailureMode.FAIL_CLOSED,
        Map.of(),
        false,
        PiiPolicies.NONE,
        LimitsConfig.NONE,
        PriceCatalog.builtIn(),
        Map.of());
  }

  /** Resolves a client model name, tenant entries first. */
  public Optional<ModelTarget> resolve(@Nullable String tenant, String model) {
    if (tenant != null) {
      Map<String, ModelTarget> forTenant = tenantModels.get(tenant);
      if (forTenant != null && forTenant.containsKey(model)) {
        return Optional.of(forTenant.get(model));
      }
    }
    return Optional.ofNullable(models.get(model));
  }

  /** Model names a tenant may use, sorted, for error messages. */
  public List<String> allowedModels(@Nullable String tenant) {
    TreeSet<String> names = new TreeSet<>(models.keySet());
    if (tenant != null && tenantModels.containsKey(tenant)) {
      names.addAll(tenantModels.get(tenant).keySet());
    }
    return List.copyOf(names);
  }

  public FailureMode failureModeFor(@Nullable String route) {
    return route == null ? failureMode : routeFailureModes.getOrDefault(route, failureMode);
  }
}
