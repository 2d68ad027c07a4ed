package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Routes, weighted splits and model aliases set over REST, as Envoy and ext-proc carry them out. */
@RequiresEnvoy
class RoutingEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("alpha", "beta");

  private static String chat(String model) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";
  }

  @Test
  void aRouteCreatedOverRestIsInEnvoysConfigWithinOneSecondAndCarriesTraffic() {
    Gateway gw = GATEWAY.get();
    gw.rest("PUT", "/v1/routes/to-beta", "{\"targets\":[{\"provider\":\"beta\"}]}");
    long written = System.nanoTime();
    await("route to-beta in Envoy's config_dump")
        .atMost(Duration.ofSeconds(1))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> gw.envoy
            .admin("/config_dump?resource=dynamic_route_configs")
            .body()
            .contains("\"to-beta\""));
    long visibleMs = (System.nanoTime() - written) / 1_000_000;
    System.out.println("route visible in Envoy's config_dump after " + visibleMs + " ms");

    gw.put("/v1/models/via-beta", "{\"route\":\"to-beta\",\"model\":\"gpt-4o-mini\"}");
    gw.provider("beta").clearReceived();
    HttpResponse<String> r = gw.post("/v1/chat/completions", chat("via-beta"));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("beta").received())
        .singleElement()
        .satisfies(req -> assertThat(req.bodyText())
            .contains("\"model\":\"gpt-4o-mini\"")
            .doesNotContain("via-beta"));
  }

  @Test
  void aWeightedSplitHoldsWithinStatisticalToleranceOverAThousandRequests() throws Exception {
    Gateway gw = GATEWAY.get();
    gw.putRoute(
        "split",
        "{\"targets\":[{\"provider\":\"alpha\",\"weight\":70},{\"provider\":\"beta\",\"weight\":30}]}");
    gw.put("/v1/models/split-model", "{\"route\":\"split\",\"model\":\"gpt-4o-mini\"}");
    MockProvider alpha = gw.provider("alpha");
    MockProvider beta = gw.provider("beta");
    alpha.clearReceived();
    beta.clearReceived();

    int n = 1000;
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      CompletableFuture<?>[] calls = IntStream.range(0, n)
          .mapToObj(i -> CompletableFuture.supplyAsync(
                  () -> gw.post("/v1/chat/completions", chat("split-model")), clients)
              .thenAccept(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200)))
          .toArray(CompletableFuture[]::new);
      CompletableFuture.allOf(calls).get();
    } finally {
      clients.shutdownNow();
    }

    int toAlpha = alpha.received().size();
    int toBeta = beta.received().size();
    assertThat(toAlpha + toBeta).isEqualTo(n);
    // 70 % of 1000 has a standard deviation of about 14.5; five of them either way is a false
    // alarm less than once in a million runs.
    assertThat(toAlpha).isBetween(628, 772);
  }

  @Test
  void aModelAliasIsRewrittenAndAClientSentRouteHeaderNeverChoosesTheRoute() {
    Gateway gw = GATEWAY.get();
    gw.put("/v1/models/house-model", "{\"route\":\"alpha\",\"model\":\"gpt-4o\"}");
    gw.provider("alpha").clearReceived();
    gw.provider("beta").clearReceived();

    HttpResponse<String> r =
        gw.post("/v1/chat/completions", chat("house-model"), "x-llmgw-route", "beta");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("beta").received()).isEmpty();
    assertThat(gw.provider("alpha").received()).singleElement().satisfies(req -> {
      assertThat(req.bodyText()).contains("\"model\":\"gpt-4o\"").doesNotContain("house-model");
      assertThat(req.headers()).doesNotContainKey("x-llmgw-route");
    });
    assertThat(Gateway.json(r.body()).path("model").asText()).isEqualTo("gpt-4o");
  }

  @Test
  void anUnknownModelIsRefusedInTheCallersErrorShapeWithoutReachingAProvider() {
    Gateway gw = GATEWAY.get();
    gw.provider("alpha").clearReceived();

    HttpResponse<String> openai = gw.post("/v1/chat/completions", chat("no-such-model"));
    HttpResponse<String> anthropic = gw.post(
        "/v1/messages",
        "{\"model\":\"no-such-model\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "anthropic-version",
        "2023-06-01");

    assertThat(openai.statusCode()).isEqualTo(404);
    assertThat(Gateway.json(openai.body()).path("error").path("code").asText())
        .isEqualTo("model_not_found");
    assertThat(anthropic.statusCode()).isEqualTo(404);
    assertThat(Gateway.json(anthropic.body()).path("type").asText()).isEqualTo("error");
    assertThat(Gateway.json(anthropic.body()).path("error").path("type").asText())
        .isEqualTo("not_found_error");
    assertThat(gw.provider("alpha").received()).isEmpty();
  }
}
