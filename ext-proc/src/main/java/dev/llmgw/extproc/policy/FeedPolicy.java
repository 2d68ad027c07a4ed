package dev.llmgw.extproc.policy;

import dev.llmgw.extproc.cost.ModelPrice;
import dev.llmgw.extproc.cost.PriceCatalog;
import dev.llmgw.extproc.limits.BudgetRule;
import dev.llmgw.extproc.limits.LimitsConfig;
import dev.llmgw.extproc.limits.Period;
import dev.llmgw.extproc.limits.RateRule;
import dev.llmgw.extproc.limits.ScopeKind;
import dev.llmgw.extproc.limits.StoreFailureMode;
import dev.llmgw.extproc.pii.EntityType;
import dev.llmgw.extproc.pii.PiiPolicies;
import dev.llmgw.extproc.pii.PiiPolicy;
import dev.llmgw.proto.policy.v1.Budget;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.IdentityHeaders;
import dev.llmgw.proto.policy.v1.LimitScope;
import dev.llmgw.proto.policy.v1.Limits;
import dev.llmgw.proto.policy.v1.PiiOnError;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.Price;
import dev.llmgw.proto.policy.v1.PriceList;
import dev.llmgw.proto.policy.v1.RateLimit;
import dev.llmgw.proto.policy.v1.StoreFailure;
import dev.llmgw.proto.policy.v1.UnknownModel;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The control plane's policy proto in ext-proc's terms, field by field into the policy objects
 * (whose constructors validate, as they do for a policy file). Unset fields take the documented
 * defaults. Every error names the field, prefixed with where it sits in the feed's policy.
 */
public final class FeedPolicy {

  private FeedPolicy() {}

  /**
   * @throws IllegalArgumentException naming the field that is not valid and what was expected
   */
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

  // ---------------------------------------------------------------- limits

  private static LimitsConfig limits(Limits l) {
    List<BudgetRule> budgets = new ArrayList<>(l.getBudgetsCount());
    for (int i = 0; i < l.getBudgetsCount(); i++) {
      Budget b = l.getBudgets(i);
      String where = "limits.budgets[" + i + "]";
      List<BigDecimal> thresholds = new ArrayList<>(b.getAlertThresholdsCount());
      for (String t : b.getAlertThresholdsList()) {
        thresholds.add(decimal(where + ".alert_thresholds", t));
      }
      BigDecimal limit = decimal(where + ".limit_usd", b.getLimitUsd());
      budgets.add(at(
          where,
          () -> new BudgetRule(
              scope(b.getScope()),
              b.getId(),
              period(b),
              limit,
              thresholds,
              b.getDowngradeTo().isEmpty() ? null : b.getDowngradeTo())));
    }
    List<RateRule> rates = new ArrayList<>(l.getRatesCount());
    for (int i = 0; i < l.getRatesCount(); i++) {
      RateLimit r = l.getRates(i);
      rates.add(at(
          "limits.rates[" + i + "]",
          () -> new RateRule(
              scope(r.getScope()), r.getId(), r.getTokensPerMinute(), r.getRequestsPerMinute())));
    }
    return at(
        "limits",
        () -> new LimitsConfig(
            budgets,
            rates,
            storeFailure(l.getBudgetStoreFailure(), StoreFailureMode.FAIL_CLOSED),
            storeFailure(l.getRateStoreFailure(), StoreFailureMode.FAIL_OPEN)));
  }

  private static ScopeKind scope(LimitScope scope) {
    return switch (scope) {
      case LIMIT_SCOPE_API_KEY -> ScopeKind.API_KEY;
      case LIMIT_SCOPE_TENANT -> ScopeKind.TENANT;
      case LIMIT_SCOPE_ROUTE -> ScopeKind.ROUTE;
      default ->
        throw new IllegalArgumentException(
            "scope: " + scope + " (expected: api_key, tenant or route)");
    };
  }

  private static Period period(Budget b) {
    return switch (b.getPeriod()) {
      case BUDGET_PERIOD_DAILY -> Period.DAILY;
      case BUDGET_PERIOD_MONTHLY -> Period.MONTHLY;
      default ->
        throw new IllegalArgumentException(
            "period: " + b.getPeriod() + " (expected: daily or monthly)");
    };
  }

  private static StoreFailureMode storeFailure(StoreFailure f, StoreFailureMode unset) {
    return switch (f) {
      case STORE_FAIL_CLOSED -> StoreFailureMode.FAIL_CLOSED;
      case STORE_FAIL_OPEN -> StoreFailureMode.FAIL_OPEN;
      default -> unset;
    };
  }

  // ---------------------------------------------------------------- prices

  private static PriceCatalog prices(PriceList list) {
    Map<String, ModelPrice> prices = new LinkedHashMap<>();
    list.getModelsMap().forEach((model, price) -> prices.put(model, price(model, price)));
    return PriceCatalog.of(
        list.getVersion().isEmpty() ? "control-plane" : list.getVersion(), prices);
  }

  private static ModelPrice price(String model, Price p) {
    String where = "prices.models." + model;
    if (p.getInput().isEmpty()) {
      throw new IllegalArgumentException(
          where + ".input: missing (expected: US dollars per million tokens, such as \"2.50\")");
    }
    BigDecimal input = decimal(where + ".input", p.getInput());
    BigDecimal cachedInput = optionalDecimal(where + ".cached_input", p.getCachedInput());
    BigDecimal cacheWrite = optionalDecimal(where + ".cache_write", p.getCacheWrite());
    BigDecimal cacheWrite1h = optionalDecimal(where + ".cache_write_1h", p.getCacheWrite1H());
    BigDecimal output = optionalDecimal(where + ".output", p.getOutput());
    BigDecimal reasoning = optionalDecimal(where + ".reasoning", p.getReasoning());
    LocalDate asOf;
    try {
      asOf = LocalDate.parse(p.getAsOf());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(where + ".as_of: '" + p.getAsOf()
          + "' (expected: the date the prices were read, yyyy-MM-dd)");
    }
    return at(
        "prices.models",
        () -> new ModelPrice(
            model,
            input,
            cachedInput,
            cacheWrite,
            cacheWrite1h,
            output,
            reasoning,
            null,
            p.getSource(),
            asOf,
            p.getNote()));
  }

  private static @Nullable BigDecimal optionalDecimal(String where, String value) {
    return value.isEmpty() ? null : decimal(where, value);
  }

  /** An exact decimal from its text, as the feed carries amounts and rates. */
  private static BigDecimal decimal(String where, String value) {
    try {
      return new BigDecimal(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          where + ": '" + value + "' (expected: a decimal number such as \"12.50\")", e);
    }
  }

  // ---------------------------------------------------------------- PII

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
      EntityType type;
      try {
        type = EntityType.fromTag(tag);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ".entities: " + e.getMessage(), e);
      }
      actions.put(
          type,
          switch (action) {
            case PII_MASK -> PiiPolicy.Action.MASK;
            case PII_REDACT -> PiiPolicy.Action.REDACT;
            case PII_HASH -> PiiPolicy.Action.HASH;
            case PII_BLOCK -> PiiPolicy.Action.BLOCK;
            default -> PiiPolicy.Action.ALLOW;
          });
    });
    PiiPolicy.ResponseScan scan = switch (p.getResponse()) {
      case PII_RESPONSE_FLAG -> PiiPolicy.ResponseScan.FLAG;
      case PII_RESPONSE_MASK -> PiiPolicy.ResponseScan.MASK;
      default -> PiiPolicy.ResponseScan.OFF;
    };
    return at(
        where,
        () -> new PiiPolicy(
            actions,
            !p.hasRestore() || p.getRestore(),
            p.getOnError() == PiiOnError.PII_ON_ERROR_ALLOW
                ? PiiPolicy.OnError.ALLOW
                : PiiPolicy.OnError.BLOCK,
            scan,
            p.getBlockStatus() == 0 ? 400 : p.getBlockStatus()));
  }

  // ---------------------------------------------------------------- helpers

  /** Builds a value, prefixing a validation error's message with where the value sits. */
  private static <T> T at(String where, Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + "." + e.getMessage(), e);
    }
  }

  private static GatewayPolicy.FailureMode failureMode(FailureMode mode) {
    return mode == FailureMode.FAIL_OPEN
        ? GatewayPolicy.FailureMode.FAIL_OPEN
        : GatewayPolicy.FailureMode.FAIL_CLOSED;
  }

  private static String or(String value, String fallback) {
    return value.isEmpty() ? fallback : value.toLowerCase(Locale.ROOT);
  }
}
