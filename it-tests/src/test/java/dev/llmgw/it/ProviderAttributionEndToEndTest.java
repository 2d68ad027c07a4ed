package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The route the policy chose and the provider that served are two names, through the real Envoy:
 * on a weighted route the spend ledger, the access log and ext-proc's cost metrics name the provider
 * the split picked for each request, and on a failover route the one that answered after the
 * primary failed, while the route stays the same.
 */
@RequiresEnvoy
class ProviderAttributionEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("primary", "secondary");

  private static final String CHAT =
      "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";

  @AfterEach
  void healProviders() {
    GATEWAY.get().providers.values().forEach(MockProvider::reset);
  }

  private static HttpResponse<String> chat(Gateway gw, String model, String tenant) {
    return gw.post("/v1/chat/completions", CHAT.formatted(model), "x-llmgw-tenant", tenant);
  }

  /** {@code route/provider -> requests} of one tenant's spend, once the ledger holds {@code requests}. */
  private static Map<String, Long> ledgerByRouteAndProvider(
      Gateway gw, String tenant, long requests) {
    JsonNode spend = await("spend of tenant '" + tenant + "' in /v1/spend")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> gw.rest("GET", "/v1/spend?tenant=" + tenant + "&group_by=route,provider", null),
            s -> s.path("total_requests").asLong() == requests);
    Map<String, Long> rows = new TreeMap<>();
    for (JsonNode row : spend.path("rows")) {
      rows.put(
          row.path("route").asText() + "/" + row.path("provider").asText(),
          row.path("requests").asLong());
    }
    return rows;
  }

  private static List<JsonNode> accessLogOf(Gateway gw, String tenant, int lines) {
    return await("the access-log lines of tenant '" + tenant + "'")
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> gw.accessLog().stream()
                .filter(l -> tenant.equals(l.path("tenant").asText()))
                .toList(),
            l -> l.size() == lines);
  }

  @Test
  void onAWeightedRouteTheLedgerNamesTheProviderThatServedEachRequest() {
    Gateway gw = GATEWAY.get();
    gw.putRoute(
        "split",
        "{\"targets\":[{\"provider\":\"primary\",\"weight\":50},{\"provider\":\"secondary\",\"weight\":50}]}");
    gw.put("/v1/models/split-model", "{\"route\":\"split\",\"model\":\"gpt-4o-mini\"}");
    gw.providers.values().forEach(MockProvider::clearReceived);

    int n = 40;
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = chat(gw, "split-model", "weighted");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    long toPrimary = gw.provider("primary").received().size();
    long toSecondary = gw.provider("secondary").received().size();

    assertThat(toPrimary + toSecondary).isEqualTo(n);
    assertThat(toPrimary)
        .as("the split sends to both (all 40 to one: p = 2^-39)")
        .isPositive();
    assertThat(toSecondary).isPositive();
    assertThat(ledgerByRouteAndProvider(gw, "weighted", n))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("split/primary", toPrimary, "split/secondary", toSecondary));
    List<JsonNode> lines = accessLogOf(gw, "weighted", n);
    assertThat(lines).allSatisfy(l -> assertThat(l.path("route").asText()).isEqualTo("split"));
    assertThat(lines.stream().filter(l -> l.path("provider").asText().equals("secondary")))
        .hasSize((int) toSecondary)
        .allSatisfy(l ->
            assertThat(l.path("upstream_cluster").asText()).isEqualTo("llmgw_provider_secondary"));
  }

  @Test
  void onAFailoverRouteTheLedgerNamesTheFallbackThatAnsweredUnderTheSameRoute() {
    Gateway gw = GATEWAY.get();
    gw.putRoute(
        "chain",
        "{\"targets\":[{\"provider\":\"primary\",\"priority\":0},{\"provider\":\"secondary\",\"priority\":1}],"
            + "\"retry\":{\"attempts\":2,\"base_backoff_ms\":10}}");
    gw.put("/v1/models/chain-model", "{\"route\":\"chain\",\"model\":\"gpt-4o-mini\"}");
    gw.providers.values().forEach(MockProvider::clearReceived);
    gw.provider("primary").failNext(1, 503);

    HttpResponse<String> failedOver = chat(gw, "chain-model", "failover");
    assertThat(failedOver.statusCode()).as(failedOver.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).as("the primary failed").hasSize(1);
    assertThat(gw.provider("secondary").received()).as("the fallback answered").hasSize(1);
    List<JsonNode> first = accessLogOf(gw, "failover", 1);
    HttpResponse<String> recovered = chat(gw, "chain-model", "failover");
    assertThat(recovered.statusCode()).as(recovered.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received())
        .as("the primary answers again")
        .hasSize(2);

    assertThat(ledgerByRouteAndProvider(gw, "failover", 2))
        .containsExactlyInAnyOrderEntriesOf(Map.of("chain/secondary", 1L, "chain/primary", 1L));
    assertThat(first).singleElement().satisfies(l -> {
      assertThat(l.path("route").asText()).isEqualTo("chain");
      assertThat(l.path("provider").asText()).isEqualTo("secondary");
      assertThat(l.path("upstream_cluster").asText())
          .as("Envoy's cluster is the failover chain's, which cannot say who answered")
          .isEqualTo("llmgw_failover_chain");
      assertThat(l.path("llmgw").path("provider").asText())
          .as("ext-proc's metadata, from Envoy's response attributes")
          .isEqualTo("secondary");
    });
    List<String> metrics = new ArrayList<>();
    for (String line : gw.extProcMetrics().split("\n")) {
      if (line.startsWith("llmgw_cost_usd_total{") && line.contains("tenant=\"failover\"")) {
        metrics.add(line);
      }
    }
    assertThat(metrics)
        .anySatisfy(l -> assertThat(l).contains("provider=\"secondary\"", "route=\"chain\""))
        .anySatisfy(l -> assertThat(l).contains("provider=\"primary\"", "route=\"chain\""));
  }
}
