package dev.llmgw.controlplane.rest;

import static dev.llmgw.controlplane.spend.SpendFixtures.NOW;
import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static dev.llmgw.controlplane.spend.SpendFixtures.spend;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.spend.InMemorySpendLedger;
import dev.llmgw.controlplane.spend.Spend;
import dev.llmgw.controlplane.spend.SpendFixtures;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /v1/spend} over an in-memory ledger, with "today" fixed at 2026-11-22. */
class SpendApiTest {

  private static final String TOKEN = "spend-admin-token-0123456789";
  private static final String READ_ONLY_TOKEN = "spend-read-only-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private InMemorySpendLedger ledger;
  private AdminApi api;

  @BeforeEach
  void start() {
    ledger = new InMemorySpendLedger(clock);
    SnapshotPublisher publisher =
        new SnapshotPublisher(new SimpleCache<>(node -> "default"), s -> {}, 0);
    api = AdminApi.start(
        "127.0.0.1",
        0,
        publisher,
        null,
        new SpendApi(ledger, new AdminAuth(TOKEN, READ_ONLY_TOKEN, false), clock));
    var yesterday = TODAY.minusDays(1);
    ledger.record(
        List.of(
            spend("1", yesterday, "acme", "k1", "gpt-4o", "1.2345"),
            spend("2", TODAY, "acme", "k1", "gpt-4o", "0.000012500000"),
            spend("3", TODAY, "acme", "k2", "claude-sonnet-4-5", "2"),
            spend("4", TODAY, "globex", "k3", "gpt-4o", "0.000000000001"),
            Spend.from(
                SpendFixtures.record("5", TODAY, "globex", "k3", "gpt-4o", "0.5")
                    .setEstimated(true)
                    .build(),
                "")),
        "test");
  }

  @AfterEach
  void stop() {
    api.close();
    ledger.close();
  }

  @Test
  void spendNeedsTheAdminOrTheReadOnlyToken() throws Exception {
    HttpResponse<String> none = send("/v1/spend", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    assertThat(error(none).get("message").asText())
        .isEqualTo("spend queries need an admin or read-only token"
            + " (expected: Authorization: Bearer <token>)");
    assertThat(error(none).get("field").asText()).isEqualTo("Authorization");

    HttpResponse<String> wrong = send("/v1/spend", "nope");
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(wrong.body()).doesNotContain("acme").doesNotContain(TOKEN);

    HttpResponse<String> readOnly = send("/v1/spend", READ_ONLY_TOKEN);
    assertThat(readOnly.statusCode()).isEqualTo(200);
    assertThat(readOnly.body()).contains("acme");
  }

  @Test
  void byDefaultTodayGroupedByEverythingWithExactCostsAsStrings() throws Exception {
    JsonNode body = ok("/v1/spend");

    assertThat(body.get("from").asText()).isEqualTo("2026-11-22");
    assertThat(body.get("to").asText()).isEqualTo("2026-11-22");
    assertThat(body.get("group_by"))
        .extracting(JsonNode::asText)
        .containsExactly("day", "tenant", "api_key_id", "route", "provider", "model");
    assertThat(body.get("rows")).hasSize(3);
    JsonNode first = body.get("rows").get(0);
    assertThat(JSON.writeValueAsString(first))
        .isEqualTo("{\"day\":\"2026-11-22\",\"tenant\":\"acme\",\"api_key_id\":\"k1\","
            + "\"route\":\"chat\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"requests\":1,\"input_tokens\":10,\"cached_input_tokens\":1,\"cache_write_tokens\":2,"
            + "\"output_tokens\":20,\"reasoning_tokens\":3,\"cost_usd\":\"0.0000125\",\"estimated_requests\":0,"
            + "\"estimated_cost_usd\":\"0.000000\"}");
    JsonNode globex = body.get("rows").get(2);
    assertThat(globex.get("requests").asLong()).isEqualTo(2);
    assertThat(globex.get("cost_usd").asText()).isEqualTo("0.500000000001");
    assertThat(globex.get("estimated_requests").asLong()).isEqualTo(1);
    assertThat(globex.get("estimated_cost_usd").asText()).isEqualTo("0.500000");
    assertThat(body.get("total_requests").asLong()).isEqualTo(4);
    assertThat(body.get("total_cost_usd").asText()).isEqualTo("2.500012500001");
    assertThat(body.get("total_estimated_cost_usd").asText()).isEqualTo("0.500000");
  }

  @Test
  void groupsAndFiltersAsAsked() throws Exception {
    JsonNode byTenant = ok("/v1/spend?from=2026-11-21&to=2026-11-22&group_by=tenant");
    assertThat(byTenant.get("rows"))
        .extracting(r -> r.get("tenant").asText() + "=" + r.get("cost_usd").asText())
        .containsExactly("acme=3.2345125", "globex=0.500000000001");
    assertThat(byTenant.get("rows").get(0).has("day"))
        .as("dimensions not grouped by are left out")
        .isFalse();
    assertThat(byTenant.get("rows").get(0).has("model")).isFalse();

    JsonNode gpt4oByDay = ok("/v1/spend?from=2026-11-21&to=2026-11-22&model=gpt-4o&group_by=day");
    assertThat(gpt4oByDay.get("rows"))
        .extracting(r -> r.get("day").asText() + "=" + r.get("requests").asLong())
        .containsExactly("2026-11-21=1", "2026-11-22=3");

    JsonNode oneKey = ok("/v1/spend?from=2026-11-21&tenant=acme&api_key_id=k1&group_by=model,day");
    assertThat(oneKey.get("group_by")).extracting(JsonNode::asText).containsExactly("model", "day");
    assertThat(oneKey.get("rows"))
        .extracting(r -> r.get("day").asText() + "/" + r.get("model").asText())
        .containsExactly("2026-11-21/gpt-4o", "2026-11-22/gpt-4o");
    assertThat(oneKey.get("total_cost_usd").asText()).isEqualTo("1.2345125");

    JsonNode total = ok("/v1/spend?from=2026-11-01&group_by=");
    assertThat(total.get("group_by")).isEmpty();
    assertThat(total.get("rows")).singleElement().satisfies(r -> {
      assertThat(r.get("requests").asLong()).isEqualTo(5);
      assertThat(new BigDecimal(r.get("cost_usd").asText())).isEqualByComparingTo("3.734512500001");
    });

    JsonNode byServer = ok("/v1/spend?route=chat&provider=openai&group_by=route,provider");
    assertThat(byServer.get("rows"))
        .extracting(r -> r.get("route").asText() + "/" + r.get("provider").asText() + "="
            + r.get("requests").asLong())
        .containsExactly("chat/openai=4");
    assertThat(ok("/v1/spend?provider=anthropic").get("rows")).isEmpty();

    JsonNode nothing = ok("/v1/spend?tenant=initech");
    assertThat(nothing.get("rows")).isEmpty();
    assertThat(nothing.get("total_cost_usd").asText()).isEqualTo("0.000000");
    assertThat(ok("/v1/spend?from=2025-11-22&to=2026-11-22&group_by=")
            .get("total_requests")
            .asLong())
        .as("366 days is the widest range")
        .isEqualTo(5);
  }

  @Test
  void badParametersAre400sThatNameTheParameterAndWhatWasExpected() throws Exception {
    assertBadRequest(
        "/v1/spend?from=2026-13-01",
        "from",
        "from: '2026-13-01' (expected: a UTC day as YYYY-MM-DD)");
    assertBadRequest(
        "/v1/spend?to=20261122", "to", "to: '20261122' (expected: a UTC day as YYYY-MM-DD)");
    assertBadRequest(
        "/v1/spend?from=+2026-11-22",
        "from",
        "from: ' 2026-11-22' (expected: a UTC day as YYYY-MM-DD)");
    assertBadRequest(
        "/v1/spend?from=2026-11-22&to=2026-11-21",
        "to",
        "to: 2026-11-21 is before from, 2026-11-22 (expected: a day on or after from)");
    assertBadRequest(
        "/v1/spend?from=2025-11-21&to=2026-11-22",
        "to",
        "to: 2025-11-21..2026-11-22 spans 367 days (expected: at most 366 days from from)");
    assertBadRequest(
        "/v1/spend?group_by=day,week",
        "group_by",
        "group_by: 'week' (expected: a comma-separated subset of day, tenant, api_key_id, route, provider, model)");
    assertBadRequest(
        "/v1/spend?group_by=day,day",
        "group_by",
        "group_by: 'day' given twice (expected: each dimension at most once)");
    assertBadRequest(
        "/v1/spend?tenant_id=acme",
        "tenant_id",
        "tenant_id: unknown query parameter (expected one of: from, to, tenant, api_key_id, route, provider, model, group_by)");
    assertBadRequest(
        "/v1/spend?tenant=a&tenant=b", "tenant", "tenant: given 2 times (expected: at most once)");
  }

  @Test
  void theOpenApiDocumentDescribesTheEndpoint() throws Exception {
    JsonNode doc;
    try (var in = SpendApi.class.getResourceAsStream("/openapi.json")) {
      doc = JSON.readTree(in);
    }
    JsonNode get = doc.at("/paths/~1v1~1spend/get");
    assertThat(get.isMissingNode()).isFalse();
    assertThat(get.get("parameters"))
        .extracting(p -> p.get("name").asText())
        .containsExactly(
            "from", "to", "tenant", "api_key_id", "route", "provider", "model", "group_by");
    assertThat(get.at("/security/0").has("bearer")).isTrue();
    assertThat(doc.at("/components/schemas/SpendReport/properties/rows").isMissingNode())
        .isFalse();
  }

  private void assertBadRequest(String path, String field, String message) throws Exception {
    HttpResponse<String> r = send(path, TOKEN);
    assertThat(r.statusCode()).as(path).isEqualTo(400);
    JsonNode e = error(r);
    assertThat(e.get("type").asText()).isEqualTo("invalid_request");
    assertThat(e.get("field").asText()).as(path).isEqualTo(field);
    assertThat(e.get("message").asText()).as(path).isEqualTo(message);
  }

  private JsonNode ok(String path) throws Exception {
    HttpResponse<String> r = send(path, TOKEN);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> send(String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode error(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).get("error");
  }
}
