package dev.llmgw.controlplane.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.controlplane.model.ModelAlias;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.store.StoreState;
import dev.llmgw.controlplane.store.StoredDocument;
import dev.llmgw.proto.policy.v1.Budget;
import dev.llmgw.proto.policy.v1.BudgetPeriod;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.IdentityHeaders;
import dev.llmgw.proto.policy.v1.KeyIdentity;
import dev.llmgw.proto.policy.v1.LimitScope;
import dev.llmgw.proto.policy.v1.Limits;
import dev.llmgw.proto.policy.v1.ModelTarget;
import dev.llmgw.proto.policy.v1.PiiAction;
import dev.llmgw.proto.policy.v1.PiiOnError;
import dev.llmgw.proto.policy.v1.PiiPolicy;
import dev.llmgw.proto.policy.v1.PiiResponseScan;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.Price;
import dev.llmgw.proto.policy.v1.PriceList;
import dev.llmgw.proto.policy.v1.RateLimit;
import dev.llmgw.proto.policy.v1.TenantModels;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The documents that only shape ext-proc's policy, not Envoy's configuration: operator prices
 * ({@code /v1/prices/{model}}), budgets ({@code /v1/budgets/{name}}), token rate limits
 * ({@code /v1/rate-limits/{name}}), PII policies ({@code /v1/pii-policies/{name}}), tenants with
 * their own aliases, registered API keys and the identity-header setting; plus the failure mode a
 * provider or route document may carry. Each is
 * validated on its own when written ({@link #check}) and as a whole when the policy is built
 * ({@link #apply}: one budget per scope, id and period; one PII policy per target). The rules mirror
 * what ext-proc enforces when it loads the policy, so a change the REST API accepts is one ext-proc
 * applies.
 */
public final class PolicyDocuments {

  public static final String PRICES = "prices";
  public static final String BUDGETS = "budgets";
  public static final String RATE_LIMITS = "rate-limits";
  public static final String PII_POLICIES = "pii-policies";
  public static final String TENANTS = "tenants";
  public static final String KEYS = "keys";
  /** Gateway-wide settings; today one document, {@code identity-headers}. */
  public static final String SETTINGS = "settings";

  public static final String IDENTITY_HEADERS = "identity-headers";
  public static final List<String> KINDS =
      List.of(PRICES, BUDGETS, RATE_LIMITS, PII_POLICIES, TENANTS, KEYS, SETTINGS);
  private static final Set<String> IDENTITY_FIELDS =
      Set.of("tenant", "application", "user", "api_key");
  private static final java.util.regex.Pattern HEADER_NAME =
      java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,99}");
  private static final Set<String> KEY_FIELDS =
      Set.of("api_key", "api_key_id", "tenant", "application", "user");
  private static final java.util.regex.Pattern KEY_ID =
      java.util.regex.Pattern.compile("key_[0-9a-f]{12}");
  private static final Set<String> TENANT_FIELDS = Set.of("models");
  private static final Set<String> TENANT_MODEL_FIELDS = Set.of("route", "model");

  private static final Set<String> PRICE_FIELDS = Set.of(
      "input",
      "cached_input",
      "cache_write",
      "cache_write_1h",
      "output",
      "reasoning",
      "source",
      "as_of",
      "note");
  private static final Set<String> BUDGET_FIELDS =
      Set.of("scope", "id", "period", "limit_usd", "alert_thresholds", "downgrade_to");
  private static final Set<String> RATE_FIELDS =
      Set.of("scope", "id", "tokens_per_minute", "requests_per_minute");
  private static final Set<String> PII_FIELDS =
      Set.of("applies_to", "entities", "restore", "on_error", "response", "block_status");
  private static final Set<String> ENTITY_TYPES =
      Set.of("email", "phone", "credit_card", "iban", "us_ssn", "ip_address", "secret");
  private static final BigDecimal MAX_USD = new BigDecimal("1000000000");
  private static final long MAX_PER_MINUTE = 1_000_000_000_000L;

  /** A document the API refuses; {@code field} names the part at fault. */
  public static final class InvalidDocumentException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String field;

    InvalidDocumentException(String field, String message) {
      super(field + ": " + message);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  private PolicyDocuments() {}

  /**
   * Checks one document of {@code kind} and its name. Prices are named by the model they price and
   * tenants by the tenant, names that come from outside the gateway ({@code gpt-4.1}), so they are
   * spelled like model names; every other document has a name of the operator's, spelled like a
   * provider's.
   *
   * @throws IllegalArgumentException for a bad name, {@link InvalidDocumentException} for a bad body
   */
  public static void check(String kind, String name, JsonNode doc) {
    if (kind.equals(PRICES) || kind.equals(TENANTS)) {
      ModelAlias.requireName("name", name);
    } else {
      Provider.requireName("name", name);
    }
    switch (kind) {
      case PRICES -> price(doc);
      case BUDGETS -> budget(doc);
      case RATE_LIMITS -> rate(doc);
      case PII_POLICIES -> {
        pii(doc);
        piiTarget(doc);
      }
      case TENANTS -> tenant(doc);
      case KEYS -> key(doc);
      case SETTINGS -> {
        if (!name.equals(IDENTITY_HEADERS)) {
          throw new InvalidDocumentException(
              "name", "'" + name + "' (expected: " + IDENTITY_HEADERS + ")");
        }
        identityHeaders(doc);
      }
      default ->
        throw new IllegalArgumentException("kind: " + kind + " (expected one of " + KINDS + ")");
    }
  }

  /**
   * Adds every stored price, budget, rate limit and PII policy to {@code policy}.
   *
   * @throws IllegalArgumentException when documents contradict each other
   */
  public static void apply(StoreState state, Policy.Builder policy) {
    for (String kind : List.of("providers", "routes")) {
      for (StoredDocument d : state.list(kind)) {
        JsonNode mode = d.body().get("failure_mode");
        if (mode != null && mode.isTextual()) {
          policy.putRouteFailureModes(
              d.name(),
              mode.asText().equals("fail_open") ? FailureMode.FAIL_OPEN : FailureMode.FAIL_CLOSED);
        }
      }
    }
    Set<String> routes = new HashSet<>();
    state.list("providers").forEach(d -> routes.add(d.name()));
    state.list("routes").forEach(d -> routes.add(d.name()));
    state
        .get(SETTINGS, IDENTITY_HEADERS)
        .ifPresent(d -> policy.setIdentityHeaders(identityHeaders(d.body())));
    Map<String, String> keyOwners = new java.util.HashMap<>();
    for (StoredDocument d : state.list(KEYS)) {
      KeyIdentity k = key(d.body());
      String fingerprint = d.body().path("api_key_id").asText();
      String other = keyOwners.put(fingerprint, d.name());
      if (other != null) {
        throw new IllegalArgumentException("keys['" + d.name() + "'].api_key_id: '" + fingerprint
            + "' is already registered as keys['" + other + "'] (expected: each key once)");
      }
      policy.putKeys(fingerprint, k);
    }
    for (StoredDocument d : state.list(TENANTS)) {
      TenantModels models = tenant(d.body());
      models.getModelsMap().forEach((alias, target) -> {
        if (!routes.contains(target.getRoute())) {
          throw new IllegalArgumentException("tenants['" + d.name() + "'].models['" + alias
              + "'].route: unknown route '" + target.getRoute() + "' (expected: one of "
              + routes.stream().sorted().toList() + ")");
        }
      });
      policy.putTenantModels(d.name(), models);
    }
    List<StoredDocument> prices = state.list(PRICES);
    if (!prices.isEmpty()) {
      PriceList.Builder list =
          PriceList.newBuilder().setVersion("control-plane-" + state.version());
      for (StoredDocument d : prices) {
        list.putModels(d.name(), price(d.body()));
      }
      policy.setPrices(list);
    }
    Limits.Builder limits = Limits.newBuilder();
    Set<String> seen = new HashSet<>();
    for (StoredDocument d : state.list(BUDGETS)) {
      Budget b = budget(d.body());
      if (!seen.add(b.getScope() + "/" + b.getId() + "/" + b.getPeriod())) {
        throw new IllegalArgumentException("budgets['" + d.name() + "']: a second "
            + text(b.getPeriod()) + " budget for " + text(b.getScope()) + " '" + b.getId()
            + "' (expected: one budget per scope, id and period)");
      }
      limits.addBudgets(b);
    }
    seen.clear();
    for (StoredDocument d : state.list(RATE_LIMITS)) {
      RateLimit r = rate(d.body());
      if (!seen.add(r.getScope() + "/" + r.getId())) {
        throw new IllegalArgumentException(
            "rate-limits['" + d.name() + "']: a second rate limit for " + text(r.getScope()) + " '"
                + r.getId() + "' (expected: one per scope and id)");
      }
      limits.addRates(r);
    }
    if (limits.getBudgetsCount() > 0 || limits.getRatesCount() > 0) {
      policy.setLimits(limits);
    }
    Map<String, String> targets = new java.util.HashMap<>();
    for (StoredDocument d : state.list(PII_POLICIES)) {
      PiiPolicy p = pii(d.body());
      String target = piiTarget(d.body());
      String other = targets.put(target, d.name());
      if (other != null) {
        throw new IllegalArgumentException("pii-policies['" + d.name() + "'].applies_to: '" + target
            + "' is already the target of pii-policies['" + other
            + "'] (expected: one policy per target)");
      }
      if (target.equals("default")) {
        policy.setPiiDefault(p);
      } else if (target.startsWith("route:")) {
        policy.putRoutePii(target.substring("route:".length()), p);
      } else {
        policy.putTenantPii(target.substring("tenant:".length()), p);
      }
    }
  }

  /**
   * The stored form of a key document: a raw {@code api_key} (write-only) is replaced by its
   * fingerprint, so the store, the API and the feed only ever hold {@code api_key_id}.
   */
  public static JsonNode storedKey(JsonNode doc) {
    if (!(doc instanceof com.fasterxml.jackson.databind.node.ObjectNode o) || !o.has("api_key")) {
      return doc;
    }
    JsonNode raw = o.get("api_key");
    if (!raw.isTextual() || raw.asText().isEmpty()) {
      throw new InvalidDocumentException(
          "api_key", "not a non-empty string (expected: the API key clients send)");
    }
    String fingerprint = fingerprint(raw.asText());
    if (o.has("api_key_id") && !fingerprint.equals(o.get("api_key_id").asText())) {
      throw new InvalidDocumentException(
          "api_key_id", "does not match api_key (expected: one of them, or both agreeing)");
    }
    com.fasterxml.jackson.databind.node.ObjectNode copy = o.deepCopy();
    copy.remove("api_key");
    copy.put("api_key_id", fingerprint);
    return copy;
  }

  /** {@code key_} + 12 hex digits of SHA-256 of the key: the fingerprint ext-proc attributes a key by. */
  static String fingerprint(String apiKey) {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(apiKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return "key_" + java.util.HexFormat.of().formatHex(digest, 0, 6);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /** Names of the request headers ext-proc reads identity from; unset ones keep ext-proc's defaults. */
  private static IdentityHeaders identityHeaders(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, IDENTITY_FIELDS);
    IdentityHeaders.Builder h = IdentityHeaders.newBuilder();
    for (String field : List.of("tenant", "application", "user", "api_key")) {
      String name = optionalString(doc, field);
      if (name == null) {
        continue;
      }
      if (!HEADER_NAME.matcher(name).matches() || name.startsWith("x-llmgw-route")) {
        throw new InvalidDocumentException(
            field,
            "'" + name + "' (expected: a lower-case header name such as x-tenant-id, "
                + "not x-llmgw-route)");
      }
      switch (field) {
        case "tenant" -> h.setTenant(name);
        case "application" -> h.setApplication(name);
        case "user" -> h.setUser(name);
        default -> h.setApiKey(name);
      }
    }
    return h.build();
  }

  /** A registered API key: whom it belongs to. */
  private static KeyIdentity key(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, KEY_FIELDS);
    if (doc.has("api_key")) {
      throw new InvalidDocumentException("api_key", "must not be stored (expected: api_key_id)");
    }
    String id = optionalString(doc, "api_key_id");
    if (id == null) {
      throw new InvalidDocumentException(
          "api_key_id", "missing (expected: api_key, or its fingerprint key_ and 12 hex digits)");
    }
    if (!KEY_ID.matcher(id).matches()) {
      throw new InvalidDocumentException(
          "api_key_id", "'" + id + "' (expected: key_ and 12 lower-case hex digits)");
    }
    KeyIdentity.Builder k = KeyIdentity.newBuilder();
    String tenant = optionalString(doc, "tenant");
    String application = optionalString(doc, "application");
    String user = optionalString(doc, "user");
    if (tenant == null && application == null && user == null) {
      throw new InvalidDocumentException(
          "tenant", "missing (expected: at least one of tenant, application, user)");
    }
    if (tenant != null) {
      k.setTenant(tenant);
    }
    if (application != null) {
      k.setApplication(application);
    }
    if (user != null) {
      k.setUser(user);
    }
    return k.build();
  }

  /** A tenant: its own model aliases, which win over the global ones for its requests. */
  private static TenantModels tenant(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, TENANT_FIELDS);
    TenantModels.Builder t = TenantModels.newBuilder();
    JsonNode models = doc.get("models");
    if (models == null || models.isNull()) {
      return t.build();
    }
    if (!models.isObject()) {
      throw new InvalidDocumentException(
          "models", "not an object (expected: {\"alias\": {\"route\": ..., \"model\": ...}})");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = models.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String where = "models." + e.getKey();
      JsonNode m = e.getValue();
      if (m == null || !m.isObject()) {
        throw new InvalidDocumentException(
            where, "not an object (expected: {\"route\": ..., \"model\": ...})");
      }
      for (Iterator<String> f = m.fieldNames(); f.hasNext(); ) {
        String field = f.next();
        if (!TENANT_MODEL_FIELDS.contains(field)) {
          throw new InvalidDocumentException(
              where + "." + field, "unknown field (expected one of: [model, route])");
        }
      }
      String route = m.path("route").asText("");
      String model = m.path("model").asText("");
      if (!m.path("route").isTextual() || route.isBlank()) {
        throw new InvalidDocumentException(
            where + ".route", "missing (expected: a provider or route name)");
      }
      if (!m.path("model").isTextual() || model.isBlank()) {
        throw new InvalidDocumentException(
            where + ".model", "missing (expected: the provider's model name)");
      }
      t.putModels(
          e.getKey(), ModelTarget.newBuilder().setRoute(route).setModel(model).build());
    }
    return t.build();
  }

  private static Price price(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, PRICE_FIELDS);
    Price.Builder p = Price.newBuilder().setInput(rate(doc, "input", true));
    p.setCachedInput(rate(doc, "cached_input", false));
    p.setCacheWrite(rate(doc, "cache_write", false));
    p.setCacheWrite1H(rate(doc, "cache_write_1h", false));
    p.setOutput(rate(doc, "output", false));
    p.setReasoning(rate(doc, "reasoning", false));
    String source = string(doc, "source");
    if (source.isBlank()) {
      throw new InvalidDocumentException(
          "source",
          "'' (expected: where the prices come from, such as a contract or pricing page)");
    }
    p.setSource(source);
    String asOf = string(doc, "as_of");
    try {
      LocalDate.parse(asOf);
    } catch (DateTimeParseException e) {
      throw new InvalidDocumentException("as_of", "'" + asOf + "' (expected: a date YYYY-MM-DD)");
    }
    p.setAsOf(asOf);
    String note = optionalString(doc, "note");
    return p.setNote(note == null ? "" : note).build();
  }

  private static Budget budget(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, BUDGET_FIELDS);
    Budget.Builder b = Budget.newBuilder().setScope(scope(doc)).setId(id(doc));
    String period = string(doc, "period");
    b.setPeriod(
        switch (period) {
          case "daily" -> BudgetPeriod.BUDGET_PERIOD_DAILY;
          case "monthly" -> BudgetPeriod.BUDGET_PERIOD_MONTHLY;
          default ->
            throw new InvalidDocumentException(
                "period", "'" + period + "' (expected: daily or monthly)");
        });
    BigDecimal limit = decimal(doc.get("limit_usd"), "limit_usd");
    if (limit.compareTo(MAX_USD) > 0) {
      throw new InvalidDocumentException(
          "limit_usd", limit.toPlainString() + " (expected: at most " + MAX_USD + ")");
    }
    b.setLimitUsd(limit.toPlainString());
    JsonNode thresholds = doc.get("alert_thresholds");
    if (thresholds != null && !thresholds.isNull()) {
      if (!thresholds.isArray()) {
        throw new InvalidDocumentException(
            "alert_thresholds", "not an array (expected: fractions of the limit, e.g. [0.5, 0.8])");
      }
      Set<BigDecimal> distinct = new java.util.TreeSet<>();
      for (JsonNode t : thresholds) {
        BigDecimal v = decimal(t, "alert_thresholds");
        if (v.signum() <= 0 || v.compareTo(BigDecimal.TEN) > 0 || !distinct.add(v)) {
          throw new InvalidDocumentException(
              "alert_thresholds",
              v.toPlainString()
                  + " (expected: distinct fractions of the limit > 0 and <= 10, e.g. 0.8)");
        }
        b.addAlertThresholds(v.toPlainString());
      }
    }
    String downgrade = optionalString(doc, "downgrade_to");
    if (downgrade != null) {
      if (downgrade.isBlank()) {
        throw new InvalidDocumentException(
            "downgrade_to", "'' (expected: a model name, or no downgrade_to)");
      }
      b.setDowngradeTo(downgrade);
    }
    return b.build();
  }

  private static RateLimit rate(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, RATE_FIELDS);
    long tpm = perMinute(doc, "tokens_per_minute");
    long rpm = perMinute(doc, "requests_per_minute");
    if (tpm == 0 && rpm == 0) {
      throw new InvalidDocumentException(
          "tokens_per_minute", "0 and requests_per_minute 0 (expected: at least one > 0)");
    }
    return RateLimit.newBuilder()
        .setScope(scope(doc))
        .setId(id(doc))
        .setTokensPerMinute(tpm)
        .setRequestsPerMinute(rpm)
        .build();
  }

  private static PiiPolicy pii(JsonNode doc) {
    requireObject(doc);
    onlyFields(doc, PII_FIELDS);
    PiiPolicy.Builder p = PiiPolicy.newBuilder();
    JsonNode entities = doc.get("entities");
    if (entities != null && !entities.isNull()) {
      if (!entities.isObject()) {
        throw new InvalidDocumentException(
            "entities", "not an object (expected: {\"email\": \"mask\", ...})");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = entities.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!ENTITY_TYPES.contains(e.getKey())) {
          throw new InvalidDocumentException(
              "entities." + e.getKey(),
              "unknown PII type (expected one of "
                  + ENTITY_TYPES.stream().sorted().toList() + ")");
        }
        String action =
            e.getValue().isTextual() ? e.getValue().asText().toLowerCase(Locale.ROOT) : "";
        p.putEntities(
            e.getKey(),
            switch (action) {
              case "allow" -> PiiAction.PII_ALLOW;
              case "mask" -> PiiAction.PII_MASK;
              case "redact" -> PiiAction.PII_REDACT;
              case "hash" -> PiiAction.PII_HASH;
              case "block" -> PiiAction.PII_BLOCK;
              default ->
                throw new InvalidDocumentException(
                    "entities." + e.getKey(),
                    e.getValue() + " (expected: allow, mask, redact, hash or block)");
            });
      }
    }
    JsonNode restore = doc.get("restore");
    if (restore != null && !restore.isNull()) {
      if (!restore.isBoolean()) {
        throw new InvalidDocumentException("restore", restore + " (expected: true or false)");
      }
      p.setRestore(restore.asBoolean());
    }
    String onError = optionalString(doc, "on_error");
    if (onError != null) {
      p.setOnError(
          switch (onError) {
            case "block" -> PiiOnError.PII_ON_ERROR_BLOCK;
            case "allow" -> PiiOnError.PII_ON_ERROR_ALLOW;
            default ->
              throw new InvalidDocumentException(
                  "on_error", "'" + onError + "' (expected: block or allow)");
          });
    }
    String response = optionalString(doc, "response");
    if (response != null) {
      p.setResponse(
          switch (response) {
            case "off" -> PiiResponseScan.PII_RESPONSE_OFF;
            case "flag" -> PiiResponseScan.PII_RESPONSE_FLAG;
            case "mask" -> PiiResponseScan.PII_RESPONSE_MASK;
            default ->
              throw new InvalidDocumentException(
                  "response", "'" + response + "' (expected: off, flag or mask)");
          });
    }
    JsonNode status = doc.get("block_status");
    if (status != null && !status.isNull()) {
      if (!status.isIntegralNumber() || (status.asInt() != 400 && status.asInt() != 403)) {
        throw new InvalidDocumentException("block_status", status + " (expected: 400 or 403)");
      }
      p.setBlockStatus(status.asInt());
    }
    return p.build();
  }

  /** {@code default}, {@code route:<name>} or {@code tenant:<name>}. */
  private static String piiTarget(JsonNode doc) {
    String target = string(doc, "applies_to");
    if (target.equals("default")
        || (target.startsWith("route:") && target.length() > "route:".length())
        || (target.startsWith("tenant:") && target.length() > "tenant:".length())) {
      return target;
    }
    throw new InvalidDocumentException(
        "applies_to",
        "'" + target + "' (expected: default, route:<route name> or tenant:<tenant>)");
  }

  private static LimitScope scope(JsonNode doc) {
    String scope = string(doc, "scope");
    return switch (scope) {
      case "api_key" -> LimitScope.LIMIT_SCOPE_API_KEY;
      case "tenant" -> LimitScope.LIMIT_SCOPE_TENANT;
      case "route" -> LimitScope.LIMIT_SCOPE_ROUTE;
      default ->
        throw new InvalidDocumentException(
            "scope", "'" + scope + "' (expected: api_key, tenant or route)");
    };
  }

  private static String id(JsonNode doc) {
    String id = string(doc, "id");
    if (id.isBlank()) {
      throw new InvalidDocumentException(
          "id", "'' (expected: a tenant name, an API key fingerprint, or \"*\" for each one)");
    }
    return id;
  }

  private static long perMinute(JsonNode doc, String field) {
    JsonNode v = doc.get(field);
    if (v == null || v.isNull()) {
      return 0;
    }
    if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > MAX_PER_MINUTE) {
      throw new InvalidDocumentException(
          field, v + " (expected: an integer in 0.." + MAX_PER_MINUTE + "; 0 means no limit)");
    }
    return v.asLong();
  }

  private static String rate(JsonNode doc, String field, boolean required) {
    BigDecimal v =
        required ? decimal(doc.get(field), field) : optionalDecimal(doc.get(field), field);
    return v == null ? "" : v.toPlainString();
  }

  /** A non-negative decimal with at most 6 places, from a JSON string ("2.50") or number, never via double. */
  private static BigDecimal decimal(@Nullable JsonNode v, String field) {
    BigDecimal d = optionalDecimal(v, field);
    if (d == null) {
      throw new InvalidDocumentException(
          field, "missing (expected: a decimal number such as \"2.50\")");
    }
    return d;
  }

  /** Like {@link #decimal}, but null when {@code v} is absent or JSON null. */
  private static @Nullable BigDecimal optionalDecimal(@Nullable JsonNode v, String field) {
    if (v == null || v.isNull()) {
      return null;
    }
    BigDecimal d;
    try {
      d = v.isTextual()
          ? new BigDecimal(v.asText())
          : v.isNumber() ? new BigDecimal(v.asText()) : null;
    } catch (NumberFormatException e) {
      d = null;
    }
    if (d == null || d.signum() < 0 || d.stripTrailingZeros().scale() > 6) {
      throw new InvalidDocumentException(
          field,
          v + " (expected: a decimal number >= 0 with at most 6 decimal places, such as \"2.50\")");
    }
    return d;
  }

  private static void requireObject(JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      throw new InvalidDocumentException("(body)", "not a JSON object (expected: {...})");
    }
  }

  private static void onlyFields(JsonNode doc, Set<String> allowed) {
    for (Iterator<String> it = doc.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw new InvalidDocumentException(
            f, "unknown field (expected one of: " + allowed.stream().sorted().toList() + ")");
      }
    }
  }

  private static String string(JsonNode doc, String field) {
    String v = optionalString(doc, field);
    if (v == null) {
      throw new InvalidDocumentException(field, "missing (expected: a string)");
    }
    return v;
  }

  /** The string at {@code field}, or null when it is absent or JSON null. */
  private static @Nullable String optionalString(JsonNode doc, String field) {
    JsonNode v = doc.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new InvalidDocumentException(
          field, v.getNodeType().name().toLowerCase(Locale.ROOT) + " (expected: a string)");
    }
    return v.asText();
  }

  private static String text(LimitScope scope) {
    return switch (scope) {
      case LIMIT_SCOPE_API_KEY -> "api_key";
      case LIMIT_SCOPE_ROUTE -> "route";
      default -> "tenant";
    };
  }

  private static String text(BudgetPeriod period) {
    return period == BudgetPeriod.BUDGET_PERIOD_DAILY ? "daily" : "monthly";
  }
}
