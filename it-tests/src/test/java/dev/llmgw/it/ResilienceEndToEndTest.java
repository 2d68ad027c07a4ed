package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gateway's processes failing under it: ext-proc killed with a request in flight, and the
 * control plane killed. Envoy's behaviour is the real one. ext-proc down altogether, per failure
 * mode and in each API's error shape, is {@link ExtProcFailureEndToEndTest}'s.
 */
@RequiresEnvoy
class ResilienceEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("llm");

  private static final String CHAT =
      "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";

  @BeforeAll
  static void alias() {
    GATEWAY.get().put("/v1/models/chat", "{\"route\":\"llm\",\"model\":\"gpt-4o-mini\"}");
  }

  @AfterEach
  void everythingRunsAgain() {
    Gateway gw = GATEWAY.get();
    gw.provider("llm").reset();
    if (!gw.extProc.isAlive()) {
      gw.extProc.start();
    }
    if (!gw.controlPlane.isAlive()) {
      gw.controlPlane.start();
    }
    awaitServing(gw);
  }

  private static HttpResponse<String> chat(Gateway gw, String model) {
    return gw.post("/v1/chat/completions", CHAT.formatted(model));
  }

  private static void awaitServing(Gateway gw) {
    await("the gateway serves chat completions again")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> chat(gw, "chat").statusCode() == 200);
  }

  @Test
  void extProcKilledWithARequestInFlightGivesAClear5xxAndServiceComesBackWhenItReturns() {
    Gateway gw = GATEWAY.get();
    gw.provider("llm").delay(Duration.ofSeconds(30));
    int before = gw.provider("llm").received().size();
    CompletableFuture<HttpResponse<String>> inFlight =
        CompletableFuture.supplyAsync(() -> chat(gw, "chat"));
    await("the request reached the provider")
        .atMost(Duration.ofSeconds(30))
        .until(() -> gw.provider("llm").received().size() > before);

    gw.extProc.kill();
    HttpResponse<String> broken = inFlight.join();

    assertThat(broken.statusCode()).as(broken.body()).isBetween(500, 504);
    gw.provider("llm").reset();
    gw.extProc.start();
    awaitServing(gw);
  }

  @Test
  void envoyKeepsServingWhileTheControlPlaneIsDownAndTakesChangesAfterItsRestart() {
    Gateway gw = GATEWAY.get();
    gw.controlPlane.kill();

    HttpResponse<String> whileDown = chat(gw, "chat");
    assertThat(whileDown.statusCode()).as(whileDown.body()).isEqualTo(200);

    gw.controlPlane.start();
    await("control plane back")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() ->
            EnvoyProcess.get("http://127.0.0.1:" + gw.restPort + "/healthz").statusCode() == 200);
    gw.put("/v1/models/after-restart", "{\"route\":\"llm\",\"model\":\"gpt-4o\"}");

    HttpResponse<String> r = chat(gw, "after-restart");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Gateway.json(r.body()).path("model").asText()).isEqualTo("gpt-4o");
  }
}
