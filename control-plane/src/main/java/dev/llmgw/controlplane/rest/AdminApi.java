package dev.llmgw.controlplane.rest;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.xds.SnapshotPublisher;
import io.javalin.Javalin;
import io.javalin.http.HttpStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The control plane's REST API: health, the configuration endpoints of {@link ConfigApi} and the
 * spend query of {@link SpendApi}.
 */
public final class AdminApi implements AutoCloseable {

  private final Javalin app;

  private AdminApi(Javalin app) {
    this.app = app;
  }

  /**
   * Starts the API on {@code port} (0 picks a free one). {@code GET /healthz} answers 200 once a
   * snapshot has been published and 503 before, with the version in the body either way.
   */
  public static AdminApi start(String host, int port, SnapshotPublisher publisher) {
    return start(host, port, publisher, null);
  }

  /** Starts the API with the configuration endpoints of {@code config}, when given. */
  public static AdminApi start(
      String host, int port, SnapshotPublisher publisher, @Nullable ConfigApi configApi) {
    return start(host, port, publisher, configApi, null);
  }

  /** Starts the API with the configuration endpoints and the spend query, each when given. */
  public static AdminApi start(
      String host,
      int port,
      SnapshotPublisher publisher,
      @Nullable ConfigApi configApi,
      @Nullable SpendApi spendApi) {
    requireNonNull(publisher, "publisher");
    Javalin app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.useVirtualThreads = false;
    });
    app.get("/healthz", ctx -> {
      Map<String, Object> body = new LinkedHashMap<>();
      var published = publisher.lastPublished();
      body.put("status", published.isPresent() ? "serving" : "starting");
      body.put(
          "snapshotVersion", published.map(SnapshotPublisher.Published::version).orElse(null));
      ctx.status(published.isPresent() ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
          .json(body);
    });
    if (configApi != null) {
      configApi.register(app);
    }
    if (spendApi != null) {
      spendApi.register(app);
    }
    app.error(HttpStatus.NOT_FOUND, ctx -> {
      if (ctx.result() == null || !ctx.result().startsWith("{")) {
        ctx.json(
            Map.of(
                "error",
                Map.of(
                    "type",
                    "not_found",
                    "message",
                    "no such endpoint: " + ctx.method() + " " + ctx.path()
                        + " (expected: GET /healthz, /openapi.json, /v1/providers, /v1/routes, /v1/models, /v1/spend)")));
      }
    });
    app.start(host, port);
    return new AdminApi(app);
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
  }
}
