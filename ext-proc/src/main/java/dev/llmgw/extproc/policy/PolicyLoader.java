package dev.llmgw.extproc.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.llmgw.extproc.cost.PriceCatalog;
import dev.llmgw.extproc.limits.LimitsConfig;
import dev.llmgw.extproc.pii.EntityType;
import dev.llmgw.extproc.pii.PiiPolicies;
import dev.llmgw.extproc.pii.PiiPolicy;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Reads a policy file (YAML or JSON, snake_case keys) into a {@link GatewayPolicy}. Unknown keys
 * are errors, so a typo never silently turns a rule off. Errors name the field and what was expected.
 *
 * <pre>{@code
 * version: "7"
 * max_request_body_bytes: 1048576
 * unknown_model: reject            # or pass_through
 * failure_mode: fail_closed        # or fail_open
 * route_failure_modes: { openai: fail_open }
 * include_stream_usage: true
 * identity_headers: { tenant: x-llmgw-tenant, application: x-llmgw-application, user: x-llmgw-user, api_key: x-llmgw-api-key }
 * models:
 *   fast:   { route: openai, model: gpt-4o-mini }
 *   gpt-4o: { route: openai, model: gpt-4o }
 * tenant_models:
 *   acme: { fast: { route: openai, model: gpt-4.1-mini } }
 * pii:
 *   default:
 *     entities: { email: mask, phone: mask, credit_card: block, secret: block }
 *     restore: true                # put masked values back into responses (default true)
 *     on_error: block              # or allow: forward unchecked when detection fails
 *     response: off                # or flag / mask: scan what the model emits
 *     block_status: 400            # or 403
 *   routes:  { anthropic: { entities: { email: redact } } }
 *   tenants: { research: { entities: {} } }
 * limits:                          # budgets and token rate limits (docs/limits.md)
 *   budgets: [ { scope: tenant, id: acme, period: monthly, limit_usd: "500.00", alert_thresholds: [0.8] } ]
 *   rates:   [ { scope: api_key, id: "*", tokens_per_minute: 100000, requests_per_minute: 600 } ]
 * keys:                            # registered API keys (fingerprints): their identity wins over headers
 *   key_0123456789ab: { tenant: acme, application: chat }
 * prices:                          # laid over the built-in price catalog (docs/cost.md)
 *   version: acme-2026-11
 *   models: { gpt-4o: { input: "2.00", cached_input: "1.00", output: "8.00", source: "contract", as_of: 2026-11-01 } }
 * }</pre>
 */
public final class PolicyLoader {

  /** Thrown for a policy that cannot be used; the message says what to fix. */
  public static final class InvalidPolicyException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidPolicyException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  private static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory())
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
      .build();

  private PolicyLoader() {}

  /** Parses {@code text}; {@code source} names it in error messages (a path, or "control plane"). */
  public static GatewayPolicy parse(String text, String source) throws InvalidPolicyException {
    PolicyFile file;
    try {
      file = YAML.readValue(text, PolicyFile.class);
    } catch (UnrecognizedPropertyException e) {
      throw new InvalidPolicyException(
          source + ": unknown field '" + e.getPropertyName() + "' at " + path(e)
              + " (expected one of: " + e.getKnownPropertyIds() + ")",
          e);
    } catch (InvalidFormatException e) {
      throw new InvalidPolicyException(
          source + ": " + path(e) + ": '" + e.getValue() + "' is not valid (expected: "
              + expected(e.getTargetType()) + ")",
          e);
    } catch (JsonProcessingException e) {
      throw new InvalidPolicyException(
          source + ": " + e.getOriginalMessage() + " at " + path(e), e);
    }
    if (file == null) {
      throw new InvalidPolicyException(
          source + ": empty policy (expected: a YAML or JSON object)", null);
    }
    try {
      return file.toPolicy();
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new InvalidPolicyException(source + ": " + e.getMessage(), e);
    }
  }

  private static String path(JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m
        && !m.getPath().isEmpty()) {
      return m.getPath().stream()
          .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining("."));
    }
    return e.getLocation() == null
        ? "(unknown position)"
        : "line " + e.getLocation().getLineNr();
  }

  private static String expected(Class<?> type) {
    if (type.isEnum()) {
      return java.util.Arrays.stream(type.getEnumConstants())
          .map(c -> c.toString().toLowerCase(java.util.Locale.ROOT))
          .collect(Collectors.joining(" or "));
    }
    return type.getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }

  /** The file's shape; every field optional with the documented default. */
  record PolicyFile(
      String version,
      Integer maxRequestBodyBytes,
      IdentityFile identityHeaders,
      Map<String, ModelTarget> models,
      Map<String, Map<String, ModelTarget>> tenantModels,
      GatewayPolicy.UnknownModel unknownModel,
      GatewayPolicy.FailureMode failureMode,
      Map<String, GatewayPolicy.FailureMode> routeFailureModes,
      Boolean includeStreamUsage,
      PiiFile pii,
      LimitsConfig limits,
      com.fasterxml.jackson.databind.JsonNode prices,
      Map<String, KeyIdentity> keys) {

    GatewayPolicy toPolicy() {
      GatewayPolicy.IdentityHeaders d = GatewayPolicy.IdentityHeaders.DEFAULT;
      GatewayPolicy.IdentityHeaders identity = identityHeaders == null
          ? d
          : new GatewayPolicy.IdentityHeaders(
              lower(identityHeaders.tenant(), d.tenant()),
                  lower(identityHeaders.application(), d.application()),
              lower(identityHeaders.user(), d.user()), lower(identityHeaders.apiKey(), d.apiKey()));
      if (models != null) {
        models.forEach((k, v) -> requireTarget("models." + k, v));
      }
      if (tenantModels != null) {
        tenantModels.forEach(
            (t, m) -> m.forEach((k, v) -> requireTarget("tenant_models." + t + "." + k, v)));
      }
      return new GatewayPolicy(
          version == null ? "unversioned" : version,
          maxRequestBodyBytes == null
              ? GatewayPolicy.DEFAULT_MAX_REQUEST_BODY_BYTES
              : maxRequestBodyBytes,
          identity,
          models == null ? Map.of() : models,
          tenantModels == null ? Map.of() : tenantModels,
          unknownModel == null ? GatewayPolicy.UnknownModel.REJECT : unknownModel,
          failureMode == null ? GatewayPolicy.FailureMode.FAIL_CLOSED : failureMode,
          routeFailureModes == null ? Map.of() : routeFailureModes,
          includeStreamUsage != null && includeStreamUsage,
          pii == null ? PiiPolicies.NONE : pii.toPolicies(),
          limits == null ? LimitsConfig.NONE : limits,
          prices == null || prices.isNull()
              ? PriceCatalog.builtIn()
              : PriceCatalog.builtIn()
                  .overriddenBy(PriceCatalog.parse(prices.toString(), "prices")),
          keys == null ? Map.of() : keys);
    }

    private static void requireTarget(String where, ModelTarget target) {
      if (target == null) {
        throw new IllegalArgumentException(where + ": null (expected: { route: ..., model: ...})");
      }
    }

    private static String lower(String value, String fallback) {
      return value == null ? fallback : value.toLowerCase(java.util.Locale.ROOT);
    }
  }

  record IdentityFile(String tenant, String application, String user, String apiKey) {}

  record PiiFile(
      @JsonProperty("default") PiiPolicyFile defaults,
      Map<String, PiiPolicyFile> routes,
      Map<String, PiiPolicyFile> tenants) {

    PiiPolicies toPolicies() {
      return new PiiPolicies(
          defaults == null ? null : defaults.toPolicy("pii.default"),
          convert(routes, "pii.routes."),
          convert(tenants, "pii.tenants."));
    }

    private static Map<String, PiiPolicy> convert(Map<String, PiiPolicyFile> files, String where) {
      Map<String, PiiPolicy> out = new java.util.HashMap<>();
      if (files != null) {
        files.forEach((name, f) -> {
          if (f == null) {
            throw new IllegalArgumentException(where + name + ": null (expected: a PII policy)");
          }
          out.put(name, f.toPolicy(where + name));
        });
      }
      return out;
    }
  }

  record PiiPolicyFile(
      Map<String, PiiPolicy.Action> entities,
      Boolean restore,
      PiiPolicy.OnError onError,
      PiiPolicy.ResponseScan response,
      Integer blockStatus) {

    PiiPolicy toPolicy(String where) {
      Map<EntityType, PiiPolicy.Action> actions = new java.util.EnumMap<>(EntityType.class);
      if (entities != null) {
        entities.forEach((tag, action) -> {
          EntityType type;
          try {
            type = EntityType.fromTag(tag);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ".entities: " + e.getMessage(), e);
          }
          if (action == null) {
            throw new IllegalArgumentException(where + ".entities." + tag
                + ": null (expected: allow, mask, redact, hash or block)");
          }
          actions.put(type, action);
        });
      }
      try {
        return new PiiPolicy(
            actions,
            restore == null || restore,
            onError == null ? PiiPolicy.OnError.BLOCK : onError,
            response == null ? PiiPolicy.ResponseScan.OFF : response,
            blockStatus == null ? 400 : blockStatus);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
  }
}
