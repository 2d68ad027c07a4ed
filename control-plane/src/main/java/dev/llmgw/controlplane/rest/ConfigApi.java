package dev.llmgw.controlplane.rest;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.llmgw.controlplane.ConfigService;
import dev.llmgw.controlplane.model.ModelAlias;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import dev.llmgw.controlplane.policy.PolicyDocuments;
import dev.llmgw.controlplane.store.Change;
import dev.llmgw.controlplane.store.StoreState;
import dev.llmgw.controlplane.store.StoredDocument;
import dev.llmgw.controlplane.xds.validation.EnvoyTypes;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * CRUD over providers, routes and model aliases: {@code /v1/providers/{name}},
 * {@code /v1/routes/{name}} and {@code /v1/models/{name}}.
 *
 * <p>Reads need the admin or the read-only token (unless reads are open), writes the admin token
 * ({@link AdminAuth}). Every document has a
 * revision, returned as a strong ETag; {@code If-Match} makes a write conditional (412 when someone
 * else wrote first) and {@code If-None-Match: *} makes a PUT create-only (409 when it exists).
 * {@code ?dry_run=true} checks a change and returns the Envoy resources it would produce, without
 * storing or pushing anything. Errors are {@code {"error": {"type", "message", "field"}}}.
 */
public final class ConfigApi {

  private static final Pattern ETAG = Pattern.compile("\"(\\d+)\"");
  /** Largest request body read (1 MB); documents are a few hundred bytes. */
  static final int MAX_BODY_BYTES = 1_000_000;

  private final ConfigService service;
  private final AdminAuth auth;
  private final ObjectMapper json = new ObjectMapper();

  public ConfigApi(ConfigService service, AdminAuth auth) {
    this.service = requireNonNull(service, "service");
    this.auth = requireNonNull(auth, "auth");
  }

  /** Parses a stored or submitted provider document. */
  public static Provider parseProvider(String name, JsonNode body) {
    return Documents.provider(name, body);
  }

  public static Route parseRoute(String name, JsonNode body) {
    return Documents.route(name, body);
  }

  public static ModelAlias parseModel(String name, JsonNode body) {
    return Documents.model(name, body);
  }

  void register(Javalin app) {
    List<String> kinds =
        new java.util.ArrayList<>(List.of(Documents.PROVIDERS, Documents.ROUTES, Documents.MODELS));
    kinds.addAll(PolicyDocuments.KINDS);
    for (String kind : kinds) {
      app.get("/v1/" + kind, ctx -> list(ctx, kind));
      app.get("/v1/" + kind + "/{name}", ctx -> get(ctx, kind));
      app.put("/v1/" + kind + "/{name}", ctx -> put(ctx, kind));
      app.delete("/v1/" + kind + "/{name}", ctx -> delete(ctx, kind));
    }
    app.get("/openapi.json", ctx -> ctx.contentType("application/json").result(openApi()));
  }

  private void list(Context ctx, String kind) {
    if (!auth.canRead(ctx, "reads")) {
      return;
    }
    StoreState state = service.state();
    String prefix = ctx.queryParam("name_prefix");
    String provider = ctx.queryParam("provider");
    ArrayNode items = json.createArrayNode();
    for (StoredDocument d : state.list(kind)) {
      if (prefix != null && !d.name().startsWith(prefix)) {
        continue;
      }
      ObjectNode item = render(kind, d);
      if (provider != null
          && kind.equals(Documents.ROUTES)
          && item.get("targets").findValuesAsText("provider").stream()
              .noneMatch(provider::equals)) {
        continue;
      }
      items.add(item);
    }
    ObjectNode out = json.createObjectNode();
    out.set("items", items);
    out.put("version", state.version());
    ctx.json(out);
  }

  private void get(Context ctx, String kind) {
    if (!auth.canRead(ctx, "reads")) {
      return;
    }
    String name = ctx.pathParam("name");
    StoredDocument d = service.state().get(kind, name).orElse(null);
    if (d == null) {
      error(
          ctx,
          HttpStatus.NOT_FOUND,
          "not_found",
          "name",
          singular(kind) + " '" + name + "' does not exist");
      return;
    }
    ctx.header("ETag", etag(d.revision())).json(render(kind, d));
  }

  private void put(Context ctx, String kind) throws Exception {
    if (!authorized(ctx)) {
      return;
    }
    String name = ctx.pathParam("name");
    byte[] raw = boundedBody(ctx);
    if (raw == null) {
      return;
    }
    JsonNode body;
    try {
      body = json.readTree(raw);
    } catch (java.io.IOException e) {
      error(
          ctx,
          HttpStatus.BAD_REQUEST,
          "invalid_json",
          "(body)",
          "body is not valid JSON (expected: a JSON object)");
      return;
    }
    if (kind.equals(PolicyDocuments.KEYS)) {
      // The raw key is write-only: only its fingerprint is stored.
      try {
        body = PolicyDocuments.storedKey(body);
      } catch (PolicyDocuments.InvalidDocumentException e) {
        error(ctx, HttpStatus.BAD_REQUEST, "invalid_request", e.field(), e.getMessage());
        return;
      }
    }
    StoredDocument existing = service.state().get(kind, name).orElse(null);
    if (kind.equals(Documents.PROVIDERS)
        && body != null
        && body.isObject()
        && !body.has("credential")
        && existing != null
        && existing.body().hasNonNull("credential")) {
      // Credentials are write-only, so clients cannot send back what they cannot read: keep it.
      ((ObjectNode) body).set("credential", existing.body().get("credential"));
    }
    try {
      parse(kind, name, body);
    } catch (Documents.BadDocumentException e) {
      error(ctx, HttpStatus.BAD_REQUEST, "invalid_request", e.field, e.getMessage());
      return;
    } catch (PolicyDocuments.InvalidDocumentException e) {
      error(ctx, HttpStatus.BAD_REQUEST, "invalid_request", e.field(), e.getMessage());
      return;
    } catch (IllegalArgumentException e) {
      error(ctx, HttpStatus.BAD_REQUEST, "invalid_request", "name", e.getMessage());
      return;
    }
    OptionalLong expected = precondition(ctx);
    if (expected == null) {
      return;
    }
    apply(ctx, kind, new Change(Change.Op.PUT, kind, name, body, expected), existing == null);
  }

  private void delete(Context ctx, String kind) throws Exception {
    if (!authorized(ctx)) {
      return;
    }
    OptionalLong expected = precondition(ctx);
    if (expected == null) {
      return;
    }
    apply(
        ctx,
        kind,
        new Change(Change.Op.DELETE, kind, ctx.pathParam("name"), null, expected),
        false);
  }

  private void apply(Context ctx, String kind, Change change, boolean created) throws Exception {
    boolean dryRun = "true".equalsIgnoreCase(ctx.queryParam("dry_run"));
    ConfigService.Result result;
    try {
      result = service.apply(change, dryRun);
    } catch (ConfigService.RefusedException e) {
      HttpStatus status = switch (e.refusal) {
        case INVALID -> HttpStatus.BAD_REQUEST;
        case CONFLICT -> HttpStatus.CONFLICT;
        case PRECONDITION_FAILED -> HttpStatus.PRECONDITION_FAILED;
        case NOT_FOUND -> HttpStatus.NOT_FOUND;
      };
      error(ctx, status, e.refusal.name().toLowerCase(Locale.ROOT), e.field, e.getMessage());
      return;
    }
    if (dryRun) {
      ctx.contentType("application/json").result(dryRunBody(result.snapshot()));
      return;
    }
    if (change.op() == Change.Op.DELETE) {
      ctx.status(HttpStatus.NO_CONTENT);
      return;
    }
    StoredDocument d = result.state().get(kind, change.name()).orElseThrow();
    ctx.status(created ? HttpStatus.CREATED : HttpStatus.OK)
        .header("ETag", etag(d.revision()))
        .header("X-Snapshot-Version", result.publishedVersion())
        .json(render(kind, d));
  }

  /**
   * The request body, read up to {@link #MAX_BODY_BYTES} whether or not it declares its length; null
   * after answering 413 for a larger one.
   */
  private static byte @Nullable [] boundedBody(Context ctx) throws java.io.IOException {
    long declared = ctx.req().getContentLengthLong();
    byte[] raw = declared > MAX_BODY_BYTES
        ? null
        : ctx.req().getInputStream().readNBytes(MAX_BODY_BYTES + 1);
    if (raw != null && raw.length <= MAX_BODY_BYTES) {
      return raw;
    }
    ApiErrors.error(
        ctx,
        HttpStatus.CONTENT_TOO_LARGE,
        "request_too_large",
        "(body)",
        "body: " + (raw == null ? declared + " bytes" : "more than " + MAX_BODY_BYTES + " bytes")
            + " (expected: at most " + MAX_BODY_BYTES + " bytes, 1 MB)");
    return null;
  }

  /** If-Match / If-None-Match as an expected revision; null after answering 400 for a malformed header. */
  private @Nullable OptionalLong precondition(Context ctx) {
    String ifMatch = ctx.header("If-Match");
    String ifNoneMatch = ctx.header("If-None-Match");
    if ("*".equals(ifNoneMatch)) {
      return OptionalLong.of(0);
    }
    if (ifMatch == null) {
      return OptionalLong.empty();
    }
    var m = ETAG.matcher(ifMatch.trim());
    if (!m.matches()) {
      error(
          ctx,
          HttpStatus.BAD_REQUEST,
          "invalid_request",
          "If-Match",
          "If-Match: '" + ifMatch + "' (expected: an ETag from a previous response, e.g. \"12\")");
      return null;
    }
    return OptionalLong.of(Long.parseLong(m.group(1)));
  }

  private boolean authorized(Context ctx) {
    return auth.canWrite(ctx, "writes");
  }

  private static Object parse(String kind, String name, JsonNode body) {
    return switch (kind) {
      case Documents.PROVIDERS -> Documents.provider(name, body);
      case Documents.ROUTES -> Documents.route(name, body);
      case Documents.MODELS -> Documents.model(name, body);
      default -> {
        PolicyDocuments.check(kind, name, body);
        yield body;
      }
    };
  }

  private ObjectNode render(String kind, StoredDocument d) {
    if (PolicyDocuments.KINDS.contains(kind)) {
      // Policy documents hold no secrets: shown as stored.
      ObjectNode out = json.createObjectNode();
      out.put("name", d.name());
      out.setAll((ObjectNode) d.body());
      out.put("revision", d.revision());
      return out;
    }
    Object parsed = parse(kind, d.name(), d.body());
    ObjectNode out = parsed instanceof Provider p
        ? Documents.render(p, json)
        : parsed instanceof Route r
            ? Documents.render(r, json)
            : Documents.render((ModelAlias) parsed, json);
    if (d.body().hasNonNull("fleets")) {
      out.set("fleets", d.body().get("fleets"));
    }
    out.put("revision", d.revision());
    return out;
  }

  private String dryRunBody(Snapshot snapshot) throws Exception {
    JsonFormat.Printer printer =
        JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).preservingProtoFieldNames();
    StringBuilder b = new StringBuilder("{\"dry_run\":true,\"valid\":true,\"resources\":{");
    appendKind(b, printer, "clusters", snapshot.clusters().resources(), true);
    appendKind(b, printer, "endpoints", snapshot.endpoints().resources(), false);
    appendKind(b, printer, "listeners", snapshot.listeners().resources(), false);
    appendKind(b, printer, "routes", snapshot.routes().resources(), false);
    // Secrets carry credentials: only their names are shown.
    b.append(",\"secrets\":")
        .append(json.writeValueAsString(snapshot.secrets().resources().keySet()));
    return b.append("}}").toString();
  }

  private static void appendKind(
      StringBuilder b,
      JsonFormat.Printer printer,
      String name,
      Map<String, ? extends Message> resources,
      boolean first)
      throws Exception {
    b.append(first ? "" : ",").append('"').append(name).append("\":[");
    boolean firstItem = true;
    for (Message m : resources.values()) {
      b.append(firstItem ? "" : ",").append(printer.print(m));
      firstItem = false;
    }
    b.append(']');
  }

  private void error(
      Context ctx,
      HttpStatus status,
      String type,
      @Nullable String field,
      @Nullable String message) {
    ApiErrors.error(ctx, status, type, field, message);
  }

  private static String etag(long revision) {
    return "\"" + revision + "\"";
  }

  private static String singular(String kind) {
    return kind.equals(PolicyDocuments.PII_POLICIES)
        ? "pii-policy"
        : kind.substring(0, kind.length() - 1);
  }

  private static String openApi() throws java.io.IOException {
    try (var in = ConfigApi.class.getResourceAsStream("/openapi.json")) {
      return new String(
          requireNonNull(in, "openapi.json resource").readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
