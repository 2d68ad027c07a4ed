package dev.llmgw.controlplane.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST API over a running control plane with a file store: every error case and concurrency. */
class ConfigApiTest {

  static final String TOKEN = "test-admin-token-0123456789";
  static final String READ_ONLY_TOKEN = "test-read-only-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dataDir;

  private ControlPlane cp;

  @BeforeEach
  void start() {
    cp = start(dataDir);
  }

  static ControlPlane start(Path dataDir) {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--data-dir=" + dataDir,
          "--admin-token=" + TOKEN,
          "--read-only-token=" + READ_ONLY_TOKEN
        },
        Map.of());
    return ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
  }

  @AfterEach
  void stop() {
    cp.close();
  }

  @Test
  void startupProvidersAreSeededAndListed() throws Exception {
    HttpResponse<String> list = read("/v1/providers");
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(list.body()).get("items").findValuesAsText("name"))
        .containsExactly("anthropic", "openai");
  }

  @Test
  void createReadUpdateDeleteAProviderWithEtags() throws Exception {
    HttpResponse<String> created = write(
        "PUT",
        "/v1/providers/mistral",
        "{\"base_url\":\"https://api.mistral.ai\",\"credential\":{\"header\":\"Authorization\",\"value\":\"Bearer mistral-secret\"}}",
        Map.of());
    assertThat(created.statusCode()).isEqualTo(201);
    String etag = created.headers().firstValue("ETag").orElseThrow();
    assertThat(created.body()).doesNotContain("mistral-secret").contains("\"configured\":true");
    assertThat(created.headers().firstValue("X-Snapshot-Version")).isPresent();

    HttpResponse<String> read = read("/v1/providers/mistral");
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.headers().firstValue("ETag")).contains(etag);
    assertThat(read.body()).doesNotContain("mistral-secret");

    HttpResponse<String> updated = write(
        "PUT",
        "/v1/providers/mistral",
        "{\"base_url\":\"https://api.mistral.ai\",\"connect_timeout_ms\":2000}",
        Map.of("If-Match", etag));
    assertThat(updated.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(updated.body()).at("/credential/configured").asBoolean())
        .as("an update without credential keeps the stored one")
        .isTrue();
    assertThat(cp.publisher().lastSnapshot().secrets().resources())
        .containsKey("llmgw_credential_mistral");

    HttpResponse<String> deleted = write("DELETE", "/v1/providers/mistral", null, Map.of());
    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(read("/v1/providers/mistral").statusCode()).isEqualTo(404);
    assertThat(cp.publisher().lastSnapshot().clusters().resources())
        .doesNotContainKey("llmgw_provider_mistral");
  }

  @Test
  void writesNeedTheAdminToken() throws Exception {
    HttpResponse<String> none =
        call("PUT", "/v1/providers/x", "{\"base_url\":\"https://x.example\"}", Map.of());
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(error(none).get("message").asText())
        .contains("expected: Authorization: Bearer <token>");
    HttpResponse<String> wrong = call(
        "PUT",
        "/v1/providers/x",
        "{\"base_url\":\"https://x.example\"}",
        Map.of("Authorization", "Bearer nope"));
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(wrong.body()).doesNotContain(TOKEN);
  }

  @Test
  void validationErrorsAre400sThatNameTheField() throws Exception {
    assertBadRequest(
        write(
            "PUT",
            "/v1/providers/x",
            "{\"base_url\":\"https://x.example\",\"colour\":1}",
            Map.of()),
        "colour",
        "unknown field");
    assertBadRequest(
        write("PUT", "/v1/providers/x", "{\"base_url\":\"ftp://x\"}", Map.of()),
        "base_url",
        "expected: http(s)://host[:port]");
    assertBadRequest(
        write(
            "PUT",
            "/v1/providers/x",
            "{\"base_url\":\"https://x.example\",\"connect_timeout_ms\":-1}",
            Map.of()),
        "connect_timeout_ms",
        "expected: an integer in 1..600000");
    assertBadRequest(
        write("PUT", "/v1/providers/Bad_Name", "{\"base_url\":\"https://x.example\"}", Map.of()),
        "name",
        "name: 'Bad_Name'");
    assertBadRequest(
        write("PUT", "/v1/providers/x", "{not json", Map.of()), "(body)", "not valid JSON");
    assertBadRequest(
        write(
            "PUT",
            "/v1/routes/r",
            "{\"targets\":[{\"provider\":\"openai\",\"weight\":0}]}",
            Map.of()),
        "targets[0].weight",
        "expected: an integer in 1..10000");
    assertBadRequest(
        write("PUT", "/v1/routes/r", "{\"targets\":[{\"provider\":\"nope\"}]}", Map.of()),
        null,
        "unknown provider 'nope'");
    assertBadRequest(
        write(
            "PUT",
            "/v1/providers/x",
            "{\"base_url\":\"https://x.example\",\"credential\":{\"header\":\"bad header\",\"value\":\"v\"}}",
            Map.of()),
        "credential",
        "not a valid HTTP header name");
  }

  @Test
  void aChangeEnvoyWouldRejectIsRefusedWithTheViolation() throws Exception {
    String longSni = "a".repeat(300);
    HttpResponse<String> r = write(
        "PUT",
        "/v1/providers/x",
        "{\"base_url\":\"https://x.example\",\"sni\":\"" + longSni + "\"}",
        Map.of());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(error(r).get("message").asText())
        .contains("would be rejected by Envoy")
        .contains("sni");
    assertThat(read("/v1/providers/x").statusCode()).as("nothing stored").isEqualTo(404);
  }

  @Test
  void notFoundAndConflicts() throws Exception {
    assertThat(read("/v1/routes/none").statusCode()).isEqualTo(404);
    assertThat(write("DELETE", "/v1/routes/none", null, Map.of()).statusCode()).isEqualTo(404);

    HttpResponse<String> exists = write(
        "PUT",
        "/v1/providers/openai",
        "{\"base_url\":\"https://api.openai.com\"}",
        Map.of("If-None-Match", "*"));
    assertThat(exists.statusCode()).isEqualTo(409);

    assertThat(write(
                "PUT", "/v1/routes/chat", "{\"targets\":[{\"provider\":\"anthropic\"}]}", Map.of())
            .statusCode())
        .isEqualTo(201);
    HttpResponse<String> inUse = write("DELETE", "/v1/providers/anthropic", null, Map.of());
    assertThat(inUse.statusCode()).isEqualTo(409);
    assertThat(error(inUse).get("message").asText()).contains("unknown provider 'anthropic'");
    HttpResponse<String> isDefault = write("DELETE", "/v1/providers/openai", null, Map.of());
    assertThat(isDefault.statusCode()).isEqualTo(409);
    assertThat(error(isDefault).get("message").asText()).contains("defaultProvider: 'openai'");
    assertThat(write("PUT", "/v1/routes/chat", "{\"targets\":[]}", Map.of("If-Match", "garbage"))
            .statusCode())
        .isEqualTo(400);
  }

  @Test
  void twoWritersWithTheSameEtagOneWinsTheOtherGets412() throws Exception {
    String etag = read("/v1/providers/openai").headers().firstValue("ETag").orElseThrow();
    List<Integer> statuses = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread a = new Thread(() -> statuses.add(quiet(() -> write(
            "PUT",
            "/v1/providers/openai",
            "{\"base_url\":\"https://api.openai.com\",\"connect_timeout_ms\":1000}",
            Map.of("If-Match", etag))
        .statusCode())));
    Thread b = new Thread(() -> statuses.add(quiet(() -> write(
            "PUT",
            "/v1/providers/openai",
            "{\"base_url\":\"https://api.openai.com\",\"connect_timeout_ms\":2000}",
            Map.of("If-Match", etag))
        .statusCode())));
    a.start();
    b.start();
    a.join();
    b.join();
    assertThat(statuses).containsExactlyInAnyOrder(200, 412);
  }

  @Test
  void dryRunReturnsTheEnvoyResourcesWithoutStoringAnything() throws Exception {
    long before = cp.service().state().version();
    HttpResponse<String> r = write(
        "PUT",
        "/v1/routes/chat?dry_run=true",
        "{\"targets\":[{\"provider\":\"openai\",\"priority\":0},{\"provider\":\"anthropic\",\"priority\":1}],\"retry\":{\"attempts\":2}}",
        Map.of());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("valid").asBoolean()).isTrue();
    assertThat(body.at("/resources/clusters").findValuesAsText("name"))
        .contains("llmgw_failover_chat");
    assertThat(r.body()).contains("envoy.clusters.aggregate").contains("previous_priorities");
    assertThat(cp.service().state().version()).isEqualTo(before);
    assertThat(read("/v1/routes/chat").statusCode()).isEqualTo(404);
  }

  @Test
  void aFailOpenRouteOrProviderRunsTheFailOpenExtProcInEnvoy() throws Exception {
    HttpResponse<String> route = write(
        "PUT",
        "/v1/routes/chat?dry_run=true",
        "{\"targets\":[{\"provider\":\"openai\"}],\"failure_mode\":\"fail_open\"}",
        Map.of());
    HttpResponse<String> closed = write(
        "PUT",
        "/v1/routes/chat?dry_run=true",
        "{\"targets\":[{\"provider\":\"openai\"}],\"failure_mode\":\"fail_closed\"}",
        Map.of());

    assertThat(route.statusCode()).isEqualTo(200);
    JsonNode routes = JSON.readTree(route.body()).at("/resources/routes/0/virtual_hosts/0/routes");
    List<String> failOpen = new java.util.ArrayList<>();
    routes.forEach(r -> {
      if (r.path("typed_per_filter_config").has("llmgw.ext_proc.fail_open")) {
        failOpen.add(r.path("name").asText());
      }
    });
    assertThat(failOpen).containsExactly("route_chat");
    assertThat(closed.body()).doesNotContain("\"llmgw.ext_proc.fail_open\": {");
  }

  @Test
  void routesAreListedWithFilters() throws Exception {
    write(
        "PUT",
        "/v1/routes/chat",
        "{\"targets\":[{\"provider\":\"openai\",\"weight\":3},{\"provider\":\"anthropic\",\"weight\":1}]}",
        Map.of());
    write("PUT", "/v1/routes/embed", "{\"targets\":[{\"provider\":\"openai\"}]}", Map.of());

    JsonNode onlyAnthropic = JSON.readTree(read("/v1/routes?provider=anthropic").body());
    assertThat(onlyAnthropic.get("items").findValuesAsText("name")).containsExactly("chat");
    assertThat(onlyAnthropic.at("/items/0/mode").asText()).isEqualTo("weighted_split");
    JsonNode prefixed = JSON.readTree(read("/v1/routes?name_prefix=em").body());
    assertThat(prefixed.get("items").findValuesAsText("name")).containsExactly("embed");
  }

  @Test
  void modelAliasesReachThePolicyFeedAndMustNameAnExistingRoute() throws Exception {
    assertThat(write(
                "PUT",
                "/v1/models/fast",
                "{\"route\":\"openai\",\"model\":\"gpt-4o-mini\"}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(cp.policyFeed().current().getModelsMap().get("fast").getModel())
        .isEqualTo("gpt-4o-mini");
    assertThat(cp.policyFeed().current().getVersion())
        .isEqualTo(Long.toString(cp.service().state().version()));

    HttpResponse<String> dangling =
        write("PUT", "/v1/models/smart", "{\"route\":\"nowhere\",\"model\":\"x\"}", Map.of());
    assertThat(dangling.statusCode()).isEqualTo(400);
    assertThat(error(dangling).get("message").asText())
        .contains("models['smart'].route: unknown route 'nowhere'");
    assertBadRequest(
        write("PUT", "/v1/models/smart", "{\"route\":\"openai\"}", Map.of()),
        "model",
        "model: missing");

    write("PUT", "/v1/routes/chat", "{\"targets\":[{\"provider\":\"openai\"}]}", Map.of());
    write("PUT", "/v1/models/chatty", "{\"route\":\"chat\",\"model\":\"gpt-4o\"}", Map.of());
    HttpResponse<String> inUse = write("DELETE", "/v1/routes/chat", null, Map.of());
    assertThat(inUse.statusCode()).isEqualTo(409);
    assertThat(error(inUse).get("message").asText()).contains("unknown route 'chat'");
  }

  @Test
  void openApiDocumentIsServed() throws Exception {
    HttpResponse<String> r = call("GET", "/openapi.json", null, Map.of());
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode doc = JSON.readTree(r.body());
    assertThat(doc.get("openapi").asText()).startsWith("3.");
    for (String kind : List.of(
        "providers", "routes", "models", "prices", "budgets", "rate-limits", "pii-policies")) {
      assertThat(doc.get("paths").has("/v1/" + kind)).as(kind).isTrue();
      assertThat(doc.get("paths").has("/v1/" + kind + "/{name}")).as(kind).isTrue();
    }
  }

  @Test
  void acknowledgedChangesAndVersionsSurviveARestart() throws Exception {
    write("PUT", "/v1/routes/chat", "{\"targets\":[{\"provider\":\"openai\"}]}", Map.of());
    long versionBefore =
        SnapshotPublisher.number(cp.publisher().lastPublished().orElseThrow().version());
    cp.close();

    cp = start(dataDir);
    assertThat(read("/v1/routes/chat").statusCode()).isEqualTo(200);
    assertThat(SnapshotPublisher.number(
            cp.publisher().lastPublished().orElseThrow().version()))
        .isEqualTo(versionBefore);
    write("PUT", "/v1/routes/chat2", "{\"targets\":[{\"provider\":\"openai\"}]}", Map.of());
    assertThat(SnapshotPublisher.number(
            cp.publisher().lastPublished().orElseThrow().version()))
        .as("the next change continues from the version before the restart")
        .isEqualTo(versionBefore + 1);
  }

  private void assertBadRequest(HttpResponse<String> r, String field, String messagePart)
      throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    JsonNode e = error(r);
    if (field != null) {
      assertThat(e.get("field").asText()).isEqualTo(field);
    }
    assertThat(e.get("message").asText()).contains(messagePart);
  }

  private static JsonNode error(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).get("error");
  }

  @Test
  void providersCanHaveActiveHealthChecks() throws Exception {
    HttpResponse<String> created = write(
        "PUT",
        "/v1/providers/mistral",
        "{\"base_url\":\"https://api.mistral.ai\",\"health_check\":{\"interval_ms\":15000}}",
        Map.of());
    assertThat(created.statusCode()).isEqualTo(201);
    JsonNode check = JSON.readTree(created.body()).path("health_check");
    assertThat(check.path("path").asText()).isEqualTo("/v1/models");
    assertThat(check.path("interval_ms").asLong()).isEqualTo(15000);
    assertThat(cp.publisher()
            .lastSnapshot()
            .clusters()
            .resources()
            .get("llmgw_provider_mistral")
            .getHealthChecksCount())
        .isEqualTo(1);

    HttpResponse<String> bad = write(
        "PUT",
        "/v1/providers/mistral",
        "{\"base_url\":\"https://api.mistral.ai\",\"health_check\":{\"interval_ms\":2000,\"timeout_ms\":5000}}",
        Map.of());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(bad.body()).at("/error/field").asText()).isEqualTo("health_check");
    assertThat(JSON.readTree(bad.body()).at("/error/message").asText())
        .contains("timeout_ms: 5000 (expected: at least 100 and at most interval_ms)");
  }

  @Test
  void pricesBudgetsRateLimitsAndPiiPoliciesReachThePolicyFeed() throws Exception {
    assertThat(write(
                "PUT",
                "/v1/prices/gpt-4o",
                "{\"input\":\"2.00\",\"cached_input\":\"1.00\",\"output\":8,"
                    + "\"source\":\"contract 7\",\"as_of\":\"2026-11-01\"}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(write(
                "PUT",
                "/v1/budgets/acme-monthly",
                "{\"scope\":\"tenant\",\"id\":\"acme\",\"period\":\"monthly\","
                    + "\"limit_usd\":\"500.00\",\"alert_thresholds\":[0.5,\"0.8\"]}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(write(
                "PUT",
                "/v1/rate-limits/every-key",
                "{\"scope\":\"api_key\",\"id\":\"*\",\"tokens_per_minute\":100000}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(write(
                "PUT",
                "/v1/pii-policies/research",
                "{\"applies_to\":\"tenant:research\",\"entities\":{\"email\":\"mask\","
                    + "\"secret\":\"block\"},\"restore\":false,\"response\":\"flag\",\"block_status\":403}",
                Map.of())
            .statusCode())
        .isEqualTo(201);

    dev.llmgw.proto.policy.v1.Policy feed = cp.policyFeed().current();
    assertThat(feed.getPrices().getModelsMap().get("gpt-4o").getInput()).isEqualTo("2.00");
    assertThat(feed.getPrices().getModelsMap().get("gpt-4o").getOutput()).isEqualTo("8");
    assertThat(write(
                "PUT",
                "/v1/prices/claude-haiku-4-5",
                "{\"input\":\"1\",\"cache_write\":\"1.25\",\"cache_write_1h\":\"2\","
                    + "\"output\":\"5\",\"source\":\"contract 7\",\"as_of\":\"2026-11-01\"}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(cp.policyFeed()
            .current()
            .getPrices()
            .getModelsMap()
            .get("claude-haiku-4-5")
            .getCacheWrite1H())
        .isEqualTo("2");
    HttpResponse<String> badRate = write(
        "PUT",
        "/v1/prices/claude-haiku-4-5",
        "{\"input\":\"1\",\"cache_write_1h\":\"-2\","
            + "\"source\":\"contract 7\",\"as_of\":\"2026-11-01\"}",
        Map.of());
    assertThat(badRate.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(badRate.body()).at("/error/field").asText())
        .isEqualTo("cache_write_1h");
    assertThat(feed.getLimits().getBudgets(0).getLimitUsd()).isEqualTo("500.00");
    assertThat(feed.getLimits().getBudgets(0).getAlertThresholdsList())
        .containsExactly("0.5", "0.8");
    assertThat(feed.getLimits().getRates(0).getTokensPerMinute()).isEqualTo(100000);
    dev.llmgw.proto.policy.v1.PiiPolicy pii = feed.getTenantPiiMap().get("research");
    assertThat(pii.getEntitiesMap())
        .containsEntry("secret", dev.llmgw.proto.policy.v1.PiiAction.PII_BLOCK);
    assertThat(pii.hasRestore()).isTrue();
    assertThat(pii.getRestore()).isFalse();
    assertThat(pii.getBlockStatus()).isEqualTo(403);

    HttpResponse<String> read = read("/v1/budgets/acme-monthly");
    assertThat(JSON.readTree(read.body()).path("limit_usd").asText()).isEqualTo("500.00");
    assertThat(write("DELETE", "/v1/budgets/acme-monthly", null, Map.of()).statusCode())
        .isEqualTo(204);
    assertThat(cp.policyFeed().current().getLimits().getBudgetsCount()).isZero();
  }

  @Test
  void tenantsKeysAndRouteFailureModesReachThePolicyFeed() throws Exception {
    assertThat(write(
                "PUT",
                "/v1/routes/chat",
                "{\"targets\":[{\"provider\":\"openai\"}],\"failure_mode\":\"fail_open\"}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(write(
                "PUT",
                "/v1/tenants/research",
                "{\"models\":{\"smart\":{\"route\":\"anthropic\",\"model\":\"claude-sonnet-4-5\"}}}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    HttpResponse<String> key = write(
        "PUT",
        "/v1/keys/acme-chat",
        "{\"api_key\":\"sk-test-123\",\"tenant\":\"acme\",\"application\":\"chat\"}",
        Map.of());
    assertThat(key.statusCode()).isEqualTo(201);
    // The same fingerprint ext-proc computes (Identity.fingerprint): key_ + 12 hex digits of
    // SHA-256.
    assertThat(JSON.readTree(key.body()).path("api_key_id").asText()).isEqualTo("key_e0dbaa0c6455");
    assertThat(key.body()).doesNotContain("sk-test-123");
    assertThat(read("/v1/keys/acme-chat").body()).doesNotContain("sk-test-123");
    assertThat(java.nio.file.Files.walk(dataDir)
            .filter(java.nio.file.Files::isRegularFile)
            .map(f -> {
              try {
                return new String(
                    java.nio.file.Files.readAllBytes(f),
                    java.nio.charset.StandardCharsets.ISO_8859_1);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            })
            .noneMatch(content -> content.contains("sk-test-123")))
        .as("the raw key is never stored")
        .isTrue();

    dev.llmgw.proto.policy.v1.Policy feed = cp.policyFeed().current();
    assertThat(feed.getRouteFailureModesMap())
        .containsEntry("chat", dev.llmgw.proto.policy.v1.FailureMode.FAIL_OPEN);
    assertThat(feed.getTenantModelsMap()
            .get("research")
            .getModelsMap()
            .get("smart")
            .getModel())
        .isEqualTo("claude-sonnet-4-5");
    assertThat(feed.getKeysMap().get("key_e0dbaa0c6455").getTenant()).isEqualTo("acme");
    assertThat(feed.getKeysMap().get("key_e0dbaa0c6455").getApplication()).isEqualTo("chat");

    HttpResponse<String> dangling = write(
        "PUT",
        "/v1/tenants/other",
        "{\"models\":{\"x\":{\"route\":\"nowhere\",\"model\":\"m\"}}}",
        Map.of());
    assertThat(dangling.statusCode()).isEqualTo(400);
    assertThat(dangling.body()).contains("unknown route 'nowhere'");
    HttpResponse<String> twice = write(
        "PUT",
        "/v1/keys/again",
        "{\"api_key_id\":\"key_e0dbaa0c6455\",\"tenant\":\"x\"}",
        Map.of());
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(twice.body()).contains("already registered");
    HttpResponse<String> badMode = write(
        "PUT",
        "/v1/routes/chat2",
        "{\"targets\":[{\"provider\":\"openai\"}],\"failure_mode\":\"open\"}",
        Map.of());
    assertThat(JSON.readTree(badMode.body()).at("/error/field").asText()).isEqualTo("failure_mode");
  }

  @Test
  void identityHeaderNamesAreASettingOfTheGateway() throws Exception {
    assertThat(write(
                "PUT",
                "/v1/settings/identity-headers",
                "{\"tenant\":\"x-tenant-id\",\"api_key\":\"authorization\"}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    assertThat(cp.policyFeed().current().getIdentityHeaders().getTenant()).isEqualTo("x-tenant-id");
    assertThat(cp.policyFeed().current().getIdentityHeaders().getApiKey())
        .isEqualTo("authorization");
    assertThat(cp.policyFeed().current().getIdentityHeaders().getUser())
        .as("unset keeps ext-proc's default")
        .isEmpty();
    assertThat(cp.publisher()
            .lastSnapshot()
            .routes()
            .resources()
            .get("llmgw_routes")
            .getVirtualHosts(0)
            .getRequestHeadersToRemoveList())
        .as("identity headers stay in the gateway")
        .contains("x-tenant-id")
        .doesNotContain("authorization");
    HttpResponse<String> other = write("PUT", "/v1/settings/colours", "{}", Map.of());
    assertThat(other.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(other.body()).at("/error/field").asText()).isEqualTo("name");
    HttpResponse<String> bad =
        write("PUT", "/v1/settings/identity-headers", "{\"tenant\":\"X Tenant\"}", Map.of());
    assertThat(JSON.readTree(bad.body()).at("/error/field").asText()).isEqualTo("tenant");
  }

  @Test
  void badPolicyDocumentsAreRefusedNamingTheField() throws Exception {
    Map<String, String[]> cases = new java.util.LinkedHashMap<>();
    cases.put("/v1/prices/gpt-4o", new String[] {
      "{\"input\":\"2.0000001\",\"source\":\"x\",\"as_of\":\"2026-11-01\"}", "input"
    });
    cases.put(
        "/v1/prices/o3",
        new String[] {"{\"input\":\"2\",\"source\":\"x\",\"as_of\":\"yesterday\"}", "as_of"});
    cases.put("/v1/budgets/b", new String[] {
      "{\"scope\":\"team\",\"id\":\"a\",\"period\":\"daily\",\"limit_usd\":1}", "scope"
    });
    cases.put("/v1/budgets/c", new String[] {
      "{\"scope\":\"tenant\",\"id\":\"a\",\"period\":\"weekly\",\"limit_usd\":1}", "period"
    });
    cases.put(
        "/v1/rate-limits/r",
        new String[] {"{\"scope\":\"tenant\",\"id\":\"a\"}", "tokens_per_minute"});
    cases.put("/v1/pii-policies/p", new String[] {"{\"applies_to\":\"team:x\"}", "applies_to"});
    cases.put("/v1/pii-policies/q", new String[] {
      "{\"applies_to\":\"default\",\"entities\":{\"passport\":\"mask\"}}", "entities.passport"
    });
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      HttpResponse<String> r = write("PUT", c.getKey(), c.getValue()[0], Map.of());
      assertThat(r.statusCode()).as(c.getKey()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).at("/error/field").asText())
          .as(c.getKey())
          .isEqualTo(c.getValue()[1]);
    }
    assertThat(write(
                "PUT",
                "/v1/budgets/one",
                "{\"scope\":\"tenant\",\"id\":\"a\",\"period\":\"daily\",\"limit_usd\":1}",
                Map.of())
            .statusCode())
        .isEqualTo(201);
    HttpResponse<String> twice = write(
        "PUT",
        "/v1/budgets/two",
        "{\"scope\":\"tenant\",\"id\":\"a\",\"period\":\"daily\",\"limit_usd\":2}",
        Map.of());
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(twice.body()).contains("one budget per scope, id and period");
  }

  private HttpResponse<String> write(
      String method, String path, String body, Map<String, String> headers) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(headers);
    all.put("Authorization", "Bearer " + TOKEN);
    return call(method, path, body, all);
  }

  /** A GET with the read-only token. */
  private HttpResponse<String> read(String path) throws Exception {
    return call("GET", path, null, Map.of("Authorization", "Bearer " + READ_ONLY_TOKEN));
  }

  private HttpResponse<String> call(
      String method, String path, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + cp.adminPort() + path))
        .method(
            method,
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body))
        .header("content-type", "application/json");
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private interface Call {
    int run() throws Exception;
  }

  private static int quiet(Call c) {
    try {
      return c.run();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
