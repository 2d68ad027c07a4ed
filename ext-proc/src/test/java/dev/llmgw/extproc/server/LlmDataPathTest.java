package dev.llmgw.extproc.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.ReleasedChunk;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The LLM data path through the real ext-proc, as Envoy drives it. */
class LlmDataPathTest {

  static final String POLICY = """
      version: "t1"
      max_request_body_bytes: 2048
      include_stream_usage: true
      route_failure_modes: { lenient: fail_open }
      models:
        fast: { route: openai, model: gpt-4o-mini }
        gpt-4o: { route: openai, model: gpt-4o }
        embed: { route: openai, model: text-embedding-3-small }
        smart: { route: anthropic, model: claude-sonnet-4-5 }
        loose: { route: lenient, model: m-1 }
      tenant_models:
        acme: { fast: { route: openai, model: gpt-4.1-mini } }
      """;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Upstream OK_JSON = Upstream.returning(
      UpstreamResponse.ok("application/json", "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1}}"));

  static GatewayPolicy policy() throws Exception {
    return PolicyLoader.parse(POLICY, "test");
  }

  @Test
  void withoutEnvoyNamingTheServingProviderNoProviderIsTagged() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .build(),
          OK_JSON);

      assertThat(r.clientResponse().status()).isEqualTo(200);
      assertThat(r.dynamicMetadata().get("llmgw").getFieldsMap())
          .containsEntry("route", str("openai"))
          .doesNotContainKey("provider");
    }
  }

  @Test
  void chatRequestIsRewrittenRoutedAndTaggedWithCorrectContentLength() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
              .build(),
          Upstream.returning(UpstreamResponse.builder(200)
              .header("content-type", "application/json")
              .chunk("{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1}}")
              .attribute(ServedBy.ATTRIBUTE, "openai-eu")
              .build()));

      assertThat(r.clientResponse().status()).isEqualTo(200);
      String body = r.upstream().bodyUtf8();
      assertThat(body)
          .isEqualTo(
              "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(r.upstream().headers().get("x-llmgw-route")).contains("openai");
      assertThat(r.upstream().headers().get("content-length"))
          .contains(Integer.toString(body.getBytes(StandardCharsets.UTF_8).length));
      assertThat(r.routeCacheClearedBeforeRouting()).isTrue();
      assertThat(r.dynamicMetadata().get("llmgw").getFieldsMap())
          .as("the route the policy chose, and the provider Envoy says served it")
          .containsEntry("route", str("openai"))
          .containsEntry("provider", str("openai-eu"))
          .containsEntry("model", str("gpt-4o-mini"))
          .containsEntry("requested_model", str("fast"))
          .containsEntry("api", str("openai_chat_completions"));
      assertThat(r.phasesSent())
          .containsExactly(
              RequestCase.REQUEST_HEADERS, RequestCase.REQUEST_BODY, RequestCase.RESPONSE_HEADERS);
    }
  }

  @Test
  void everyApiShapeIsDetectedAndRewritten() throws Exception {
    record Case(String path, String model, String expectedModel, String route) {}
    List<Case> cases = List.of(
        new Case("/v1/completions", "fast", "gpt-4o-mini", "openai"),
        new Case("/v1/embeddings", "embed", "text-embedding-3-small", "openai"),
        new Case("/v1/responses", "gpt-4o", "gpt-4o", "openai"),
        new Case("/v1/messages", "smart", "claude-sonnet-4-5", "anthropic"));
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      for (Case c : cases) {
        ExchangeResult r = gw.exchange(
            GatewayExchange.post(c.path(), "{\"model\":\"" + c.model() + "\",\"input\":\"x\"}")
                .build(),
            OK_JSON);
        assertThat(JSON.readTree(r.upstream().bodyUtf8()).get("model").asText())
            .as(c.path())
            .isEqualTo(c.expectedModel());
        assertThat(r.upstream().headers().get("x-llmgw-route")).as(c.path()).contains(c.route());
      }
    }
  }

  @Test
  void nonLlmTrafficPassesUntouchedAndItsBodiesAreNeverSent() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult get = gw.exchange(
          DownstreamRequest.builder().method("GET").path("/v1/models").build(), OK_JSON);
      ExchangeResult post = gw.exchange(
          GatewayExchange.post("/v1/files", "{\"purpose\":\"batch\"}").build(), OK_JSON);

      assertThat(get.phasesSent()).containsExactly(RequestCase.REQUEST_HEADERS);
      assertThat(post.phasesSent()).containsExactly(RequestCase.REQUEST_HEADERS);
      assertThat(post.upstream().bodyUtf8()).isEqualTo("{\"purpose\":\"batch\"}");
      assertThat(post.clientResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void clientCannotChooseTheRouteHeaderItself() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(GatewayPolicy.passThrough())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"anything\"}")
              .header("x-llmgw-route", "internal-expensive")
              .build(),
          OK_JSON);

      assertThat(r.upstream().headers().contains("x-llmgw-route")).isFalse();
      assertThat(r.upstream().bodyUtf8()).isEqualTo("{\"model\":\"anything\"}");
    }
  }

  @Test
  void tenantOverrideWinsAndPolicyChangesApplyWithoutRestart() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult acme = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}")
              .header("x-llmgw-tenant", "acme")
              .build(),
          OK_JSON);
      assertThat(acme.upstream().bodyUtf8()).isEqualTo("{\"model\":\"gpt-4.1-mini\"}");
      assertThat(acme.dynamicMetadata().get("llmgw").getFieldsMap())
          .containsEntry("tenant", str("acme"));

      gw.policies.replace(
          PolicyLoader.parse(POLICY.replace("gpt-4o-mini", "gpt-4.1-nano"), "changed"));
      ExchangeResult after = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}").build(), OK_JSON);
      assertThat(after.upstream().bodyUtf8()).isEqualTo("{\"model\":\"gpt-4.1-nano\"}");
    }
  }

  @Test
  void apiKeyIsAttributedByFingerprintNeverByValue() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}")
              .header("x-llmgw-api-key", "sk-live-secret-123")
              .build(),
          OK_JSON);

      String keyId =
          r.dynamicMetadata().get("llmgw").getFieldsOrThrow("api_key_id").getStringValue();
      assertThat(keyId)
          .matches("key_[0-9a-f]{12}")
          .isEqualTo(Identity.fingerprint("sk-live-secret-123"));
      assertThat(r.dynamicMetadata().toString()).doesNotContain("sk-live-secret-123");
    }
  }

  @Test
  void streamingOpenAiRequestGetsIncludeUsageWhenPolicySaysSo() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\",\"stream\":true}")
              .build(),
          OK_JSON);
      JsonNode sent = JSON.readTree(r.upstream().bodyUtf8());
      assertThat(sent.at("/stream_options/include_usage").asBoolean()).isTrue();

      ExchangeResult explicit = gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  "{\"model\":\"fast\",\"stream\":true,\"stream_options\":{\"include_usage\":false}}")
              .build(),
          OK_JSON);
      assertThat(JSON.readTree(explicit.upstream().bodyUtf8())
              .at("/stream_options/include_usage")
              .asBoolean())
          .as("a client's explicit choice is kept")
          .isFalse();

      ExchangeResult anthropic = gw.exchange(
          GatewayExchange.post("/v1/messages", "{\"model\":\"smart\",\"stream\":true}")
              .build(),
          OK_JSON);
      assertThat(JSON.readTree(anthropic.upstream().bodyUtf8()).has("stream_options"))
          .isFalse();
    }
  }

  @Test
  void sseResponseIsSeenEventByEventWithoutHoldingAnyChunkBack() throws Exception {
    RecordingListener listener = new RecordingListener();
    ByteString sse = recorded("openai-chat-stream.sse");
    List<String> chunks = new ArrayList<>();
    String text = sse.toStringUtf8();
    for (int i = 0; i < text.length(); i += 97) {
      chunks.add(text.substring(i, Math.min(text.length(), i + 97)));
    }
    try (GatewayExchange gw = new GatewayExchange(policy(), listener)) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\",\"stream\":true}")
              .build(),
          Upstream.returning(
              UpstreamResponse.ok("text/event-stream", chunks.toArray(String[]::new))));

      assertThat(r.clientResponse().bodyUtf8()).isEqualTo(text);
      List<ReleasedChunk> released = r.clientResponse().chunks();
      for (int i = 0; i < released.size(); i++) {
        assertThat(released.get(i).afterSourceChunk())
            .as("chunk %d released as soon as it arrived", i)
            .isEqualTo(i);
      }
      assertThat(r.phasesSent()).contains(RequestCase.RESPONSE_BODY);
      assertThat(listener.events).hasSize(6);
      assertThat(listener.events.get(4).data()).contains("\"prompt_tokens\":12");
      assertThat(listener.events.get(5).isDone()).isTrue();
      assertThat(listener.ended).isEqualTo(1);
    }
  }

  @Test
  void recordedSseStreamSplitAtEveryBytePositionYieldsTheSameEvents() throws Exception {
    for (String file : List.of("openai-chat-stream.sse", "anthropic-messages-stream.sse")) {
      ByteString sse = recorded(file);
      RecordingListener whole = new RecordingListener();
      String path = file.startsWith("openai") ? "/v1/chat/completions" : "/v1/messages";
      String model = file.startsWith("openai") ? "fast" : "smart";
      try (GatewayExchange gw = new GatewayExchange(policy(), whole)) {
        gw.exchange(
            GatewayExchange.post(path, "{\"model\":\"" + model + "\",\"stream\":true}")
                .build(),
            Upstream.returning(UpstreamResponse.builder(200)
                .header("content-type", "text/event-stream")
                .chunk(sse)
                .build()));
      }
      assertThat(whole.events).isNotEmpty();
      for (int cut = 1; cut < sse.size(); cut++) {
        RecordingListener split = new RecordingListener();
        try (GatewayExchange gw = new GatewayExchange(policy(), split)) {
          ExchangeResult r = gw.exchange(
              GatewayExchange.post(path, "{\"model\":\"" + model + "\",\"stream\":true}")
                  .build(),
              Upstream.returning(UpstreamResponse.builder(200)
                  .header("content-type", "text/event-stream")
                  .chunk(sse.substring(0, cut))
                  .chunk(sse.substring(cut))
                  .build()));
          assertThat(r.clientResponse().body()).isEqualTo(sse);
        }
        assertThat(split.events).as("%s split at byte %d", file, cut).isEqualTo(whole.events);
      }
    }
  }

  @Test
  void jsonResponseBodyIsHandedToListenersWhole() throws Exception {
    RecordingListener listener = new RecordingListener();
    try (GatewayExchange gw = new GatewayExchange(policy(), listener)) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}").build(),
          Upstream.returning(
              UpstreamResponse.ok("application/json", "{\"usage\":", "{\"prompt_tokens\":3}}")));

      assertThat(r.clientResponse().bodyUtf8()).isEqualTo("{\"usage\":{\"prompt_tokens\":3}}");
      assertThat(listener.bodies).containsExactly("{\"usage\":{\"prompt_tokens\":3}}");
      assertThat(listener.requestBodies).containsExactly("{\"model\":\"gpt-4o-mini\"}");
    }
  }

  @Test
  void internalFailureFailsClosedWith502ByDefaultAndOpenWhereTheRouteSaysSo() throws Exception {
    ExchangeListener broken = context -> {
      throw new IllegalStateException("detector crashed");
    };
    try (GatewayExchange gw = new GatewayExchange(policy(), broken)) {
      ExchangeResult closed = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}").build(), OK_JSON);
      assertThat(closed.upstreamRequest()).isEmpty();
      assertThat(closed.clientResponse().status()).isEqualTo(502);
      JsonNode error = JSON.readTree(closed.clientResponse().bodyUtf8()).get("error");
      assertThat(error.get("code").asText()).isEqualTo("gateway_internal_error");
      assertThat(error.get("message").asText())
          .contains("did not forward it")
          .doesNotContain("detector crashed");

      ExchangeResult open = gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"loose\"}").build(), OK_JSON);
      assertThat(open.clientResponse().status()).isEqualTo(200);
      assertThat(open.upstream().bodyUtf8()).isEqualTo("{\"model\":\"loose\"}");
      assertThat(gw.registry
              .get(ExtProcMetrics.ERRORS)
              .tag(ExtProcMetrics.TAG_KIND, "internal")
              .counter()
              .count())
          .isEqualTo(2);
    }
  }

  @Test
  void listenerCanRefuseARequestWithAClientErrorInTheApisShape() throws Exception {
    ExchangeListener refusing = context -> new ExchangeListener.Observer() {
      @Override
      public dev.llmgw.extproc.server.@org.jspecify.annotations.Nullable Answer onRequest(
          dev.llmgw.extproc.api.LlmRequest request) {
        throw new RejectException(new dev.llmgw.extproc.api.ApiError(
            400,
            dev.llmgw.extproc.api.ApiError.Kind.INVALID_REQUEST,
            "max_tokens",
            "context_length_exceeded",
            "prompt 9000 + max_tokens 1000 exceeds the context window of 8192 tokens"));
      }
    };
    try (GatewayExchange gw = new GatewayExchange(policy(), refusing)) {
      ExchangeResult r = gw.exchange(
          GatewayExchange.post("/v1/messages", "{\"model\":\"smart\"}").build(), OK_JSON);

      assertThat(r.upstreamRequest()).isEmpty();
      assertThat(r.clientResponse().status()).isEqualTo(400);
      assertThat(
              JSON.readTree(r.clientResponse().bodyUtf8()).at("/error/message").asText())
          .contains("context window of 8192");
      assertThat(gw.registry
              .get(ExtProcMetrics.ERRORS)
              .tag(ExtProcMetrics.TAG_KIND, "context_length_exceeded")
              .counter()
              .count())
          .isEqualTo(1);
    }
  }

  @Test
  void metricsCountStreamsByApiAndTimePhases() throws Exception {
    try (GatewayExchange gw = new GatewayExchange(policy())) {
      gw.exchange(
          GatewayExchange.post("/v1/chat/completions", "{\"model\":\"fast\"}").build(), OK_JSON);
      gw.exchange(DownstreamRequest.builder().method("GET").path("/v1/models").build(), OK_JSON);

      assertThat(gw.registry
              .get(ExtProcMetrics.STREAMS)
              .tag(ExtProcMetrics.TAG_API, "openai_chat_completions")
              .counter()
              .count())
          .isEqualTo(1);
      assertThat(gw.registry
              .get(ExtProcMetrics.STREAMS)
              .tag(ExtProcMetrics.TAG_API, "passthrough")
              .counter()
              .count())
          .isEqualTo(1);
      assertThat(gw.registry
              .get(ExtProcMetrics.PHASE_TIME)
              .tag(ExtProcMetrics.TAG_PHASE, "request_body")
              .timer()
              .count())
          .isEqualTo(1);
    }
  }

  static com.google.protobuf.Value str(String s) {
    return com.google.protobuf.Value.newBuilder().setStringValue(s).build();
  }

  static ByteString recorded(String name) throws Exception {
    try (InputStream in = LlmDataPathTest.class.getResourceAsStream("/recorded/" + name)) {
      return ByteString.readFrom(in);
    }
  }

  /** Records what a capability plugged into the stream would see. */
  static final class RecordingListener implements ExchangeListener {
    final List<SseEvent> events = new CopyOnWriteArrayList<>();
    final List<String> bodies = new CopyOnWriteArrayList<>();
    final List<String> requestBodies = new CopyOnWriteArrayList<>();
    int ended;

    @Override
    public Observer open(StreamContext context) {
      return new Observer() {
        @Override
        public @org.jspecify.annotations.Nullable Answer onRequest(
            dev.llmgw.extproc.api.LlmRequest request) {
          requestBodies.add(new String(request.forwarded(), StandardCharsets.UTF_8));
          return null;
        }

        @Override
        public void onResponseEvent(SseEvent event) {
          events.add(event);
        }

        @Override
        public void onResponseBody(byte[] body) {
          bodies.add(new String(body, StandardCharsets.UTF_8));
        }

        @Override
        public void onEnd() {
          ended++;
        }
      };
    }

    @Override
    public boolean wantsResponseBody(StreamContext context) {
      return true;
    }
  }
}
