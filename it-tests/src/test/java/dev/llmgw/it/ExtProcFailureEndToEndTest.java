package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the real Envoy does on its own when ext-proc is down or its stream breaks: fail-closed
 * providers answer a 5xx in the caller's API shape, fail-open ones get the request unprocessed, and
 * service comes back with ext-proc. Envoy's other errors are API-shaped too; ext-proc's own are not
 * touched.
 */
@RequiresEnvoy
class ExtProcFailureEndToEndTest {

  /** {@code closed} is the default provider and fails closed; {@code open} is made fail-open. */
  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("closed", "open");

  private static final String CHAT =
      "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";
  private static final String MESSAGES =
      "{\"model\":\"%s\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";

  @BeforeAll
  static void configure() {
    Gateway gw = GATEWAY.get();
    gw.rest(
        "PUT",
        "/v1/providers/open",
        "{\"base_url\":\"" + gw.provider("open").baseUrl() + "\",\"failure_mode\":\"fail_open\"}");
    gw.awaitEnvoyHas("dynamic_route_configs", "\"llmgw.ext_proc.fail_open\"");
    // Nothing listens there.
    gw.putProvider(
        "dead",
        "{\"base_url\":\"http://127.0.0.1:" + FreePorts.next() + "\",\"connect_timeout_ms\":500}");
    gw.put("/v1/models/chat", "{\"route\":\"closed\",\"model\":\"gpt-4o-mini\"}");
    gw.put("/v1/models/chat-open", "{\"route\":\"open\",\"model\":\"gpt-4o-mini\"}");
    gw.put("/v1/models/chat-dead", "{\"route\":\"dead\",\"model\":\"gpt-4o-mini\"}");
  }

  @AfterEach
  void extProcRunsAgain() {
    Gateway gw = GATEWAY.get();
    gw.providers.values().forEach(MockProvider::reset);
    if (!gw.extProc.isAlive()) {
      gw.extProc.start();
    }
    awaitServing(gw);
  }

  private static void awaitServing(Gateway gw) {
    await("the gateway serves chat completions again")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> gw.post("/v1/chat/completions", CHAT.formatted("chat")).statusCode() == 200);
  }

  /** An error Envoy rendered in OpenAI's shape; returns its message. */
  private static String openAiGatewayError(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(r.headers().firstValue("x-llmgw-error")).hasValue("gateway_error");
    JsonNode error = Gateway.json(r.body()).path("error");
    assertThat(error.path("type").asText()).as(r.body()).isEqualTo("server_error");
    assertThat(error.path("code").asText()).as(r.body()).isEqualTo("gateway_error");
    return error.path("message").asText();
  }

  /** An error Envoy rendered in Anthropic's shape; returns its message. */
  private static String anthropicGatewayError(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("x-llmgw-error")).hasValue("gateway_error");
    JsonNode body = Gateway.json(r.body());
    assertThat(body.path("type").asText()).as(r.body()).isEqualTo("error");
    assertThat(body.path("error").path("type").asText()).as(r.body()).isEqualTo("api_error");
    return body.path("error").path("message").asText();
  }

  @Test
  void extProcDownFailClosedAnswersInTheCallersApiShapeAndServiceComesBack() {
    Gateway gw = GATEWAY.get();
    gw.extProc.kill();
    gw.provider("closed").clearReceived();

    HttpResponse<String> openAi = gw.post("/v1/chat/completions", CHAT.formatted("chat"));
    HttpResponse<String> anthropic = gw.post("/v1/messages", MESSAGES.formatted("chat"));

    assertThat(openAiGatewayError(openAi, 500)).contains("ext_proc_error");
    assertThat(anthropicGatewayError(anthropic, 500)).contains("ext_proc_error");
    assertThat(gw.provider("closed").received()).isEmpty();

    gw.extProc.start();
    awaitServing(gw);
    assertThat(gw.provider("closed").received()).isNotEmpty();
  }

  @Test
  void extProcDownFailOpenForwardsTheRequestUnprocessed() {
    Gateway gw = GATEWAY.get();
    gw.extProc.kill();
    gw.provider("open").clearReceived();
    String body = CHAT.formatted("chat-open");

    HttpResponse<String> r = gw.post("/v1/chat/completions", body, "x-llmgw-route", "open");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // Unprocessed: the alias is not resolved, the body is the client's to the byte.
    assertThat(gw.provider("open").received()).singleElement().satisfies(received -> {
      assertThat(received.bodyText()).isEqualTo(body);
      assertThat(received.header("x-llmgw-route")).isNull();
    });
    assertThat(gw.stat("http.llmgw.ext_proc.failure_mode_allowed")).isPositive();
  }

  @Test
  void extProcKilledMidStreamFailClosedGivesAnApiShaped5xx() {
    Gateway gw = GATEWAY.get();
    gw.provider("closed").delay(Duration.ofSeconds(30));
    gw.provider("closed").clearReceived();
    CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(
        () -> gw.post("/v1/chat/completions", CHAT.formatted("chat")));
    await("the request reached the provider")
        .atMost(Duration.ofSeconds(30))
        .until(() -> !gw.provider("closed").received().isEmpty());

    gw.extProc.kill();

    assertThat(openAiGatewayError(inFlight.join(), 500)).contains("ext_proc_error");
  }

  @Test
  void extProcKilledMidStreamFailOpenLetsTheAnswerThrough() {
    Gateway gw = GATEWAY.get();
    gw.provider("open").delay(Duration.ofSeconds(3));
    gw.provider("open").clearReceived();
    CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() ->
        gw.post("/v1/chat/completions", CHAT.formatted("chat-open"), "x-llmgw-route", "open"));
    await("the request reached the provider")
        .atMost(Duration.ofSeconds(30))
        .until(() -> !gw.provider("open").received().isEmpty());

    gw.extProc.kill();

    HttpResponse<String> r = inFlight.join();
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // ext-proc had processed the request before it died: the alias was resolved.
    assertThat(gw.provider("open").received().get(0).bodyText()).contains("\"gpt-4o-mini\"");
  }

  /**
   * Nothing listens at the dead provider's port and its route has no retries: Envoy answers 503
   * itself. (Its only host is ejected after five failures, but with every host ejected Envoy's panic
   * mode keeps trying it, so the reply stays a connect failure, UF, rather than "no healthy upstream".)
   */
  @Test
  void envoysOwnUpstreamErrorsComeBackInTheApiShape() {
    Gateway gw = GATEWAY.get();

    HttpResponse<String> openAi = gw.post("/v1/chat/completions", CHAT.formatted("chat-dead"));
    HttpResponse<String> anthropic = gw.post("/v1/messages", MESSAGES.formatted("chat-dead"));

    assertThat(openAiGatewayError(openAi, 503))
        .contains("upstream connect error", "remote_connection_failure");
    assertThat(anthropicGatewayError(anthropic, 503))
        .contains("upstream connect error", "remote_connection_failure");
  }

  @Test
  void extProcsOwnErrorsAreNotRewritten() {
    Gateway gw = GATEWAY.get();

    HttpResponse<String> openAi = gw.post("/v1/chat/completions", CHAT.formatted("no-such-model"));
    HttpResponse<String> anthropic = gw.post("/v1/messages", MESSAGES.formatted("no-such-model"));

    assertThat(openAi.statusCode()).isEqualTo(404);
    assertThat(openAi.headers().firstValue("x-llmgw-error")).hasValue("model_not_found");
    JsonNode openAiError = Gateway.json(openAi.body()).path("error");
    assertThat(openAiError.path("code").asText()).isEqualTo("model_not_found");
    assertThat(openAiError.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(openAiError.path("message").asText())
        .contains("no-such-model")
        .doesNotContain("gateway could not");
    assertThat(anthropic.statusCode()).isEqualTo(404);
    assertThat(anthropic.headers().firstValue("x-llmgw-error")).hasValue("model_not_found");
    assertThat(Gateway.json(anthropic.body()).path("error").path("type").asText())
        .isEqualTo("not_found_error");
  }
}
