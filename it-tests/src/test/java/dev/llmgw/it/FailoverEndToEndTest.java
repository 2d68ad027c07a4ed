package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failover chains, retries and outlier ejection as the real Envoy carries out what the control plane
 * pushes: every scenario has a route of its own, so providers' health does not leak between them.
 */
@RequiresEnvoy
class FailoverEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("primary", "secondary");

  private static final String CHAT =
      "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";

  @AfterEach
  void healProviders() {
    GATEWAY.get().providers.values().forEach(MockProvider::reset);
  }

  /** A failover route primary → secondary under its own name, reached through a model alias of the same name. */
  private static void failoverRoute(
      Gateway gw, String name, String first, String second, String retry) {
    gw.putRoute(
        name,
        "{\"targets\":[{\"provider\":\"" + first + "\",\"priority\":0}," + "{\"provider\":\""
            + second + "\",\"priority\":1}],\"retry\":" + retry + "}");
    gw.put("/v1/models/" + name, "{\"route\":\"" + name + "\",\"model\":\"gpt-4o-mini\"}");
  }

  private static HttpResponse<String> chat(Gateway gw, String model) {
    return gw.post("/v1/chat/completions", CHAT.formatted(model));
  }

  private static void clear(Gateway gw) {
    gw.providers.values().forEach(MockProvider::clearReceived);
  }

  @Test
  void a503FailsOverToTheNextPriorityAndTrafficComesBackAfterRecovery() {
    Gateway gw = GATEWAY.get();
    failoverRoute(
        gw, "chain-503", "primary", "secondary", "{\"attempts\":2,\"base_backoff_ms\":10}");
    clear(gw);
    gw.provider("primary").failNext(1, 503);

    HttpResponse<String> failedOver = chat(gw, "chain-503");

    assertThat(failedOver.statusCode()).as(failedOver.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).hasSize(1);
    assertThat(gw.provider("secondary").received()).hasSize(1);

    clear(gw);
    HttpResponse<String> recovered = chat(gw, "chain-503");
    assertThat(recovered.statusCode()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).hasSize(1);
    assertThat(gw.provider("secondary").received()).isEmpty();
  }

  @Test
  void a429FailsOverToTheNextPriority() {
    Gateway gw = GATEWAY.get();
    failoverRoute(
        gw, "chain-429", "primary", "secondary", "{\"attempts\":2,\"base_backoff_ms\":10}");
    clear(gw);
    gw.provider("primary").failNext(1, 429);

    HttpResponse<String> r = chat(gw, "chain-429");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).hasSize(1);
    assertThat(gw.provider("secondary").received()).hasSize(1);
  }

  @Test
  void aRefusedConnectionFailsOverToTheNextPriority() {
    Gateway gw = GATEWAY.get();
    int nobody = FreePorts.next();
    gw.putProvider("nobody-home", "{\"base_url\":\"http://127.0.0.1:" + nobody + "\"}");
    failoverRoute(
        gw, "chain-refused", "nobody-home", "secondary", "{\"attempts\":2,\"base_backoff_ms\":10}");
    clear(gw);

    HttpResponse<String> r = chat(gw, "chain-refused");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("secondary").received()).hasSize(1);
    assertThat(gw.stat("cluster.llmgw_provider_nobody-home.upstream_cx_connect_fail"))
        .isPositive();
  }

  @Test
  void anUpstreamTimeoutFailsOverToTheNextPriority() {
    Gateway gw = GATEWAY.get();
    failoverRoute(
        gw,
        "chain-slow",
        "primary",
        "secondary",
        "{\"attempts\":2,\"per_try_timeout_ms\":500,\"base_backoff_ms\":10}");
    clear(gw);
    gw.provider("primary").delay(Duration.ofSeconds(20));

    HttpResponse<String> r = chat(gw, "chain-slow");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).hasSize(1);
    assertThat(gw.provider("secondary").received()).hasSize(1);
    assertThat(gw.stat("cluster.llmgw_failover_chain-slow.upstream_rq_per_try_timeout"))
        .isPositive();
  }

  @Test
  void aRetryOnASingleProviderRouteSucceedsOnTheSecondAttempt() {
    Gateway gw = GATEWAY.get();
    gw.putRoute(
        "retrying",
        "{\"targets\":[{\"provider\":\"primary\"}],\"retry\":{\"attempts\":2,\"base_backoff_ms\":10}}");
    gw.put("/v1/models/retrying", "{\"route\":\"retrying\",\"model\":\"gpt-4o-mini\"}");
    clear(gw);
    long retriesBefore = gw.stat("cluster.llmgw_provider_primary.upstream_rq_retry");
    gw.provider("primary").failNext(1, 503);

    HttpResponse<String> r = chat(gw, "retrying");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("primary").received()).hasSize(2);
    assertThat(gw.provider("secondary").received()).isEmpty();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> gw.stat("cluster.llmgw_provider_primary.upstream_rq_retry") > retriesBefore);
  }

  @Test
  void aProviderThatKeepsFailingIsEjectedAndNoLongerTried() throws Exception {
    Gateway gw = GATEWAY.get();
    try (MockProvider flaky = MockProvider.start("127.0.0.1", 0, Duration.ZERO)) {
      gw.putProvider("flaky", "{\"base_url\":\"" + flaky.baseUrl() + "\"}");
      failoverRoute(
          gw, "chain-flaky", "flaky", "secondary", "{\"attempts\":2,\"base_backoff_ms\":10}");
      flaky.failAll(503);

      // Five consecutive 5xx eject a provider (ClusterFactory's outlier detection); every request
      // still succeeds on the next priority meanwhile.
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = chat(gw, "chain-flaky");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      await("flaky ejected")
          .atMost(Duration.ofSeconds(10))
          .until(() ->
              gw.stat("cluster.llmgw_provider_flaky.outlier_detection.ejections_active") == 1);
      int triedBefore = flaky.received().size();

      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = chat(gw, "chain-flaky");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      assertThat(flaky.received()).hasSize(triedBefore);
      assertThat(gw.prometheus())
          .contains(
              "envoy_cluster_outlier_detection_ejections_enforced_total{envoy_cluster_name=\"llmgw_provider_flaky\"}");
    }
  }
}
