package dev.llmgw.extproc.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.LocalReply;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every bad input gets an immediate answer with the right status and a body in the called
 * provider's error shape that says what was wrong and what was expected; nothing reaches upstream.
 */
class BadInputTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private GatewayExchange gw;
  private final AtomicInteger upstreamCalls = new AtomicInteger();
  private Upstream upstream;

  @BeforeEach
  void start() throws Exception {
    gw = new GatewayExchange(LlmDataPathTest.policy());
    upstream = request -> {
      upstreamCalls.incrementAndGet();
      return UpstreamResponse.ok("application/json", "{}");
    };
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
  }

  @Test
  void malformedJsonIs400() throws Exception {
    JsonNode error = openAiError(
        gw.exchange(
            GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\",").build(), upstream),
        400);
    assertThat(error.get("code").asText()).isEqualTo("invalid_json");
    assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.get("message").asText())
        .contains("not valid JSON")
        .contains("expected: a JSON object");
  }

  @Test
  void wrongContentTypeIs415() throws Exception {
    ExchangeResult r = gw.exchange(
        DownstreamRequest.builder()
            .method("POST")
            .path("/v1/chat/completions")
            .header("content-type", "text/plain")
            .chunk("model=fast")
            .build(),
        upstream);
    JsonNode error = openAiError(r, 415);
    assertThat(error.get("code").asText()).isEqualTo("unsupported_content_type");
    assertThat(error.get("message").asText())
        .isEqualTo("content-type is 'text/plain' (expected: application/json)");
    assertThat(r.phasesSent())
        .as("the body is never requested")
        .doesNotContain(
            io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_BODY);
  }

  @Test
  void missingContentTypeIs415() throws Exception {
    ExchangeResult r = gw.exchange(
        DownstreamRequest.builder()
            .method("POST")
            .path("/v1/embeddings")
            .chunk("{}")
            .build(),
        upstream);
    assertThat(openAiError(r, 415).get("message").asText())
        .isEqualTo("content-type is missing (expected: application/json)");
  }

  @Test
  void bodyOverTheLimitIs413WhetherAnnouncedOrNot() throws Exception {
    String big = "{\"model\":\"fast\",\"input\":\"" + "x".repeat(3000) + "\"}";
    JsonNode announced = openAiError(
        gw.exchange(GatewayExchange.post("/v1/completions", big).build(), upstream), 413);
    assertThat(announced.get("code").asText()).isEqualTo("request_too_large");
    assertThat(announced.get("message").asText())
        .isEqualTo("request body is " + big.length() + " bytes (expected: at most 2048 bytes)");

    ExchangeResult chunked = gw.exchange(
        DownstreamRequest.builder()
            .method("POST")
            .path("/v1/completions")
            .header("content-type", "application/json")
            .chunks(big.substring(0, 1500), big.substring(1500))
            .build(),
        upstream);
    assertThat(openAiError(chunked, 413).get("message").asText())
        .contains("expected: at most 2048 bytes");
  }

  @Test
  void missingModelIs400NamingTheField() throws Exception {
    JsonNode error = openAiError(
        gw.exchange(
            GatewayExchange.post("/v1/chat/completions", "{\"messages\":[]}").build(), upstream),
        400);
    assertThat(error.get("param").asText()).isEqualTo("model");
    assertThat(error.get("code").asText()).isEqualTo("missing_model");
    assertThat(error.get("message").asText())
        .contains("no \"model\" field")
        .contains("expected: a non-empty string");
  }

  @Test
  void invalidUtf8Is400() throws Exception {
    byte[] body = {'{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', (byte) 0xFF, '"', '}'};
    ExchangeResult r =
        gw.exchange(GatewayExchange.post("/v1/chat/completions", body).build(), upstream);
    JsonNode error = openAiError(r, 400);
    assertThat(error.get("code").asText()).isEqualTo("invalid_utf8");
    assertThat(error.get("message").asText())
        .contains("not valid UTF-8")
        .contains("expected: JSON encoded as UTF-8");
  }

  @Test
  void emptyBodyIs400() throws Exception {
    ExchangeResult r = gw.exchange(
        DownstreamRequest.builder()
            .method("POST")
            .path("/v1/chat/completions")
            .header("content-type", "application/json")
            .build(),
        upstream);
    assertThat(openAiError(r, 400).get("code").asText()).isEqualTo("empty_body");
  }

  @Test
  void unknownModelIs404ListingTheAllowedOnes() throws Exception {
    JsonNode error = openAiError(
        gw.exchange(
            GatewayExchange.post("/v1/chat/completions", "{\"model\":\"gpt-9\"}")
                .build(),
            upstream),
        404);
    assertThat(error.get("code").asText()).isEqualTo("model_not_found");
    assertThat(error.get("param").asText()).isEqualTo("model");
    assertThat(error.get("message").asText())
        .isEqualTo(
            "The model 'gpt-9' is not available through this gateway (expected one of: embed, fast, gpt-4o, loose, smart)");
    assertThat(gw.registry
            .get(ExtProcMetrics.ERRORS)
            .tag(ExtProcMetrics.TAG_KIND, "model_not_found")
            .counter()
            .count())
        .isEqualTo(1);
  }

  @Test
  void unknownModelPassesThroughUnchangedWhenPolicySaysSo() throws Exception {
    gw.policies.replace(
        PolicyLoader.parse(LlmDataPathTest.POLICY + "unknown_model: pass_through\n", "t"));
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/chat/completions", "{\"model\":\"gpt-9\"}").build(), upstream);
    assertThat(r.clientResponse().status()).isEqualTo(200);
    assertThat(r.upstream().bodyUtf8()).isEqualTo("{\"model\":\"gpt-9\"}");
    assertThat(r.upstream().headers().contains("x-llmgw-route")).isFalse();
  }

  @Test
  void anthropicCallsGetAnthropicsErrorShape() throws Exception {
    ExchangeResult r = gw.exchange(
        GatewayExchange.post("/v1/messages", "{\"model\":\"claude-9\",\"max_tokens\":5}")
            .build(),
        upstream);
    assertThat(r.clientResponse().status()).isEqualTo(404);
    JsonNode body = JSON.readTree(r.clientResponse().bodyUtf8());
    assertThat(body.get("type").asText()).isEqualTo("error");
    assertThat(body.at("/error/type").asText()).isEqualTo("not_found_error");
    assertThat(body.at("/error/message").asText())
        .contains("'claude-9'")
        .contains("expected one of");

    ExchangeResult big = gw.exchange(
        GatewayExchange.post(
                "/v1/messages", "{\"model\":\"smart\",\"x\":\"" + "y".repeat(3000) + "\"}")
            .build(),
        upstream);
    assertThat(big.clientResponse().status()).isEqualTo(413);
    assertThat(JSON.readTree(big.clientResponse().bodyUtf8()).at("/error/type").asText())
        .isEqualTo("request_too_large");
  }

  @Test
  void policyLimitIsAppliedPerStreamFromThePolicyInForce() throws Exception {
    gw.policies.replace(GatewayPolicy.passThrough());
    String big = "{\"model\":\"fast\",\"input\":\"" + "x".repeat(3000) + "\"}";
    ExchangeResult r = gw.exchange(GatewayExchange.post("/v1/completions", big).build(), upstream);
    assertThat(r.clientResponse().status())
        .as("pass-through policy allows 4 MiB")
        .isEqualTo(200);
    assertThat(r.upstream().body()).isEqualTo(ByteString.copyFromUtf8(big));
  }

  private JsonNode openAiError(ExchangeResult r, int status) throws Exception {
    assertThat(upstreamCalls.get()).as("nothing reaches upstream").isZero();
    assertThat(r.localReply()).hasValueSatisfying(reply -> {
      assertThat(reply.origin()).isEqualTo(LocalReply.Origin.PROCESSOR);
      assertThat(reply.status()).isEqualTo(status);
    });
    assertThat(r.clientResponse().status()).isEqualTo(status);
    assertThat(r.clientResponse().headers().get("content-type")).contains("application/json");
    JsonNode body = JSON.readTree(r.clientResponse().bodyUtf8());
    assertThat(body.has("error")).isTrue();
    return body.get("error");
  }
}
