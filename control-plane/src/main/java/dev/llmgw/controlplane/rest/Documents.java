package dev.llmgw.controlplane.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.controlplane.model.Credential;
import dev.llmgw.controlplane.model.HealthCheck;
import dev.llmgw.controlplane.model.ModelAlias;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The REST API's JSON documents for providers and routes, and their translation to and from the
 * domain model. Parsing is strict: unknown fields and wrong types are 400s that name the field.
 * Rendering never includes a credential's value.
 */
final class Documents {

  static final String PROVIDERS = "providers";
  static final String ROUTES = "routes";
  static final String MODELS = "models";

  private static final Set<String> PROVIDER_FIELDS = Set.of(
      "base_url",
      "sni",
      "connect_timeout_ms",
      "credential",
      "health_check",
      "fleets",
      "failure_mode");
  private static final java.util.regex.Pattern FLEET =
      java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,63}");
  private static final Set<String> HEALTH_CHECK_FIELDS =
      Set.of("path", "interval_ms", "timeout_ms", "unhealthy_threshold", "healthy_threshold");
  private static final Set<String> CREDENTIAL_FIELDS = Set.of("header", "value");
  private static final Set<String> ROUTE_FIELDS = Set.of(
      "targets", "retry", "timeout_ms", "idle_timeout_ms", "fleets", "failure_mode", "match");
  private static final Set<String> MATCH_FIELDS = Set.of("path_prefix", "tenant");
  private static final Set<String> MODEL_FIELDS = Set.of("route", "model");
  private static final Set<String> TARGET_FIELDS = Set.of("provider", "weight", "priority");
  private static final Set<String> RETRY_FIELDS =
      Set.of("attempts", "per_try_timeout_ms", "base_backoff_ms", "budget_percent");

  static final long DEFAULT_CONNECT_TIMEOUT_MS = 5000;
  static final long DEFAULT_ROUTE_TIMEOUT_MS = 300_000;

  /** A request the API refuses; {@code field} names the part at fault. */
  static final class BadDocumentException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String field;

    BadDocumentException(String field, @Nullable String message) {
      super(message);
      this.field = field;
    }
  }

  private Documents() {}

  /**
   * Checks a document's {@code fleets}: Envoy {@code node.cluster} values the resource is restricted
   * to; absent or empty means every fleet.
   */
  static void fleets(JsonNode doc) {
    JsonNode list = doc.get("fleets");
    if (list == null || list.isNull()) {
      return;
    }
    if (!list.isArray()) {
      throw new BadDocumentException(
          "fleets", "fleets: " + list + " (expected: an array of Envoy node.cluster values)");
    }
    for (JsonNode f : list) {
      if (!f.isTextual() || !FLEET.matcher(f.asText()).matches()) {
        throw new BadDocumentException(
            "fleets",
            "fleets: " + f + " (expected: an Envoy node.cluster value: letters, "
                + "digits, '_', '.', '-', at most 63)");
      }
    }
  }

  /**
   * Checks a provider's or route's {@code failure_mode}: what happens to requests to it when ext-proc
   * fails internally or is unreachable ({@code fail_closed}, the default, answers an error;
   * {@code fail_open} forwards them unprocessed).
   */
  static void failureMode(JsonNode doc) {
    JsonNode mode = doc.get("failure_mode");
    if (mode != null
        && !mode.isNull()
        && !(mode.isTextual()
            && (mode.asText().equals("fail_closed") || mode.asText().equals("fail_open")))) {
      throw new BadDocumentException(
          "failure_mode", "failure_mode: " + mode + " (expected: fail_closed or fail_open)");
    }
  }

  static Provider provider(String name, JsonNode doc) {
    domain("name", () -> Provider.requireName("name", name));
    requireObject("", doc);
    onlyFields("", doc, PROVIDER_FIELDS);
    fleets(doc);
    failureMode(doc);
    String baseUrl = text(doc, "base_url", "");
    long timeout = number(doc, "connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT_MS, 1, 600_000);
    Credential credential = null;
    JsonNode c = doc.get("credential");
    if (c != null && !c.isNull()) {
      requireObject("credential", c);
      onlyFields("credential.", c, CREDENTIAL_FIELDS);
      credential = domain(
          "credential",
          () -> new Credential(text(c, "header", "credential."), text(c, "value", "credential.")));
    }
    Credential cred = credential;
    Provider base =
        domain("base_url", () -> Provider.fromUrl(name, baseUrl, Duration.ofMillis(timeout), cred));
    String sni = optionalText(doc, "sni", "");
    Provider named = sni == null ? base : domain("sni", () -> base.withSni(sni));
    JsonNode h = doc.get("health_check");
    if (h == null || h.isNull()) {
      return named;
    }
    requireObject("health_check", h);
    onlyFields("health_check.", h, HEALTH_CHECK_FIELDS);
    String path = h.hasNonNull("path") ? text(h, "path", "health_check.") : "/v1/models";
    long interval = number(h, "interval_ms", 10_000, 1_000, 600_000, "health_check.");
    long checkTimeout = number(h, "timeout_ms", 2_000, 100, 600_000, "health_check.");
    long unhealthy = number(h, "unhealthy_threshold", 3, 1, 10, "health_check.");
    long healthy = number(h, "healthy_threshold", 2, 1, 10, "health_check.");
    return domain(
        "health_check",
        () -> named.withHealthCheck(new HealthCheck(
            path,
            Duration.ofMillis(interval),
            Duration.ofMillis(checkTimeout),
            (int) unhealthy,
            (int) healthy)));
  }

  /** The provider as the API shows it: the credential's header, never its value. */
  static ObjectNode render(Provider p, ObjectMapper json) {
    ObjectNode out = json.createObjectNode();
    out.put("name", p.name());
    out.put("base_url", p.baseUrl());
    out.put("sni", p.sni());
    out.put("connect_timeout_ms", p.connectTimeout().toMillis());
    if (p.credential() == null) {
      out.putNull("credential");
    } else {
      out.putObject("credential").put("header", p.credential().header()).put("configured", true);
    }
    if (p.healthCheck() != null) {
      HealthCheck h = p.healthCheck();
      out.putObject("health_check")
          .put("path", h.path())
          .put("interval_ms", h.interval().toMillis())
          .put("timeout_ms", h.timeout().toMillis())
          .put("unhealthy_threshold", h.unhealthyThreshold())
          .put("healthy_threshold", h.healthyThreshold());
    }
    return out;
  }

  static Route route(String name, JsonNode doc) {
    domain("name", () -> Provider.requireName("name", name));
    requireObject("", doc);
    onlyFields("", doc, ROUTE_FIELDS);
    fleets(doc);
    failureMode(doc);
    JsonNode targetsNode = doc.get("targets");
    if (targetsNode == null || !targetsNode.isArray()) {
      throw new BadDocumentException(
          "targets",
          "targets: missing or not an array (expected: [{\"provider\": \"openai\", \"weight\": 1, \"priority\": 0}, ...])");
    }
    List<Route.Target> targets = new ArrayList<>();
    for (int i = 0; i < targetsNode.size(); i++) {
      JsonNode t = targetsNode.get(i);
      String prefix = "targets[" + i + "].";
      requireObject(prefix, t);
      onlyFields(prefix, t, TARGET_FIELDS);
      String provider = text(t, "provider", prefix);
      int weight = (int) number(t, "weight", 1, 1, 10_000, prefix);
      int priority = (int) number(t, "priority", 0, 0, 9, prefix);
      targets.add(domain(prefix + "provider", () -> new Route.Target(provider, weight, priority)));
    }
    Route.Retry retry = null;
    JsonNode r = doc.get("retry");
    if (r != null && !r.isNull()) {
      requireObject("retry", r);
      onlyFields("retry.", r, RETRY_FIELDS);
      int attempts = (int) number(r, "attempts", 2, 1, 5, "retry.");
      long perTry = number(r, "per_try_timeout_ms", 0, 0, 3_600_000, "retry.");
      long backoff = number(r, "base_backoff_ms", 250, 1, 60_000, "retry.");
      double budget = r.has("budget_percent") ? decimal(r, "budget_percent", "retry.") : 20.0;
      retry = domain(
          "retry",
          () -> new Route.Retry(
              attempts,
              perTry == 0 ? null : Duration.ofMillis(perTry),
              Duration.ofMillis(backoff),
              budget));
    }
    long timeout = number(doc, "timeout_ms", DEFAULT_ROUTE_TIMEOUT_MS, 0, 86_400_000);
    long idle = number(doc, "idle_timeout_ms", 0, 0, 86_400_000);
    Route.Retry finalRetry = retry;
    Route.Match match = null;
    JsonNode m = doc.get("match");
    if (m != null && !m.isNull()) {
      requireObject("match", m);
      onlyFields("match.", m, MATCH_FIELDS);
      String prefix = optionalText(m, "path_prefix", "match.");
      String tenant = optionalText(m, "tenant", "match.");
      match = domain("match", () -> new Route.Match(prefix, tenant));
    }
    Route.Match finalMatch = match;
    return domain(
        "targets",
        () -> new Route(
            name,
            targets,
            finalRetry,
            Duration.ofMillis(timeout),
            idle == 0 ? null : Duration.ofMillis(idle),
            finalMatch));
  }

  static ObjectNode render(Route r, ObjectMapper json) {
    ObjectNode out = json.createObjectNode();
    out.put("name", r.name());
    ArrayNode targets = out.putArray("targets");
    for (Route.Target t : r.targets()) {
      targets
          .addObject()
          .put("provider", t.provider())
          .put("weight", t.weight())
          .put("priority", t.priority());
    }
    out.put(
        "mode", r.isFailover() ? "failover" : r.targets().size() > 1 ? "weighted_split" : "single");
    if (r.retry() == null) {
      out.putNull("retry");
    } else {
      out.putObject("retry")
          .put("attempts", r.retry().attempts())
          .put(
              "per_try_timeout_ms",
              r.retry().perTryTimeout() == null ? 0 : r.retry().perTryTimeout().toMillis())
          .put("base_backoff_ms", r.retry().baseBackoff().toMillis())
          .put("budget_percent", r.retry().budgetPercent());
    }
    out.put("timeout_ms", r.timeout().toMillis());
    out.put("idle_timeout_ms", r.idleTimeout() == null ? 0 : r.idleTimeout().toMillis());
    if (r.match() != null) {
      ObjectNode m = out.putObject("match");
      if (r.match().pathPrefix() != null) {
        m.put("path_prefix", r.match().pathPrefix());
      }
      if (r.match().tenant() != null) {
        m.put("tenant", r.match().tenant());
      }
    }
    return out;
  }

  static ModelAlias model(String name, JsonNode doc) {
    domain("name", () -> ModelAlias.requireName("name", name));
    requireObject("", doc);
    onlyFields("", doc, MODEL_FIELDS);
    String route = text(doc, "route", "");
    domain("route", () -> Provider.requireName("route", route));
    String model = text(doc, "model", "");
    return domain("model", () -> new ModelAlias(name, route, model));
  }

  static ObjectNode render(ModelAlias m, ObjectMapper json) {
    ObjectNode out = json.createObjectNode();
    out.put("name", m.name());
    out.put("route", m.route());
    out.put("model", m.model());
    return out;
  }

  private static <T> T domain(String field, java.util.function.Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new BadDocumentException(field, e.getMessage());
    }
  }

  private static void requireObject(String field, @Nullable JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new BadDocumentException(
          field.isEmpty() ? "(body)" : field,
          (field.isEmpty() ? "body" : field) + ": not a JSON object (expected: {...})");
    }
  }

  private static void onlyFields(String prefix, JsonNode node, Set<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw new BadDocumentException(
            prefix + f,
            prefix + f + ": unknown field (expected one of: "
                + allowed.stream().sorted().toList() + ")");
      }
    }
  }

  private static String text(JsonNode node, String field, String prefix) {
    String v = optionalText(node, field, prefix);
    if (v == null) {
      throw new BadDocumentException(
          prefix + field, prefix + field + ": missing (expected: a string)");
    }
    return v;
  }

  /** The string at {@code field}, or null when it is absent or JSON null. */
  private static @Nullable String optionalText(JsonNode node, String field, String prefix) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new BadDocumentException(
          prefix + field,
          prefix + field + ": " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
              + " (expected: a string)");
    }
    return v.asText();
  }

  private static long number(JsonNode node, String field, long def, long min, long max) {
    return number(node, field, def, min, max, "");
  }

  private static long number(
      JsonNode node, String field, long def, long min, long max, String prefix) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return def;
    }
    if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
      throw new BadDocumentException(
          prefix + field,
          prefix + field + ": " + v + " (expected: an integer in " + min + ".." + max + ")");
    }
    return v.asLong();
  }

  private static double decimal(JsonNode node, String field, String prefix) {
    JsonNode v = node.get(field);
    if (!v.isNumber()) {
      throw new BadDocumentException(
          prefix + field, prefix + field + ": " + v + " (expected: a number)");
    }
    return v.asDouble();
  }
}
