package dev.llmgw.extproc.driver;

import static dev.llmgw.extproc.driver.DriverTestSupport.config;
import static dev.llmgw.extproc.driver.DriverTestSupport.mode;
import static dev.llmgw.extproc.driver.ProcessorReplies.appendHeader;
import static dev.llmgw.extproc.driver.ProcessorReplies.headerMutation;
import static dev.llmgw.extproc.driver.ProcessorReplies.mutating;
import static dev.llmgw.extproc.driver.ProcessorReplies.rawHeader;
import static dev.llmgw.extproc.driver.ProcessorReplies.removing;
import static dev.llmgw.extproc.driver.ProcessorReplies.replaceBody;
import static dev.llmgw.extproc.driver.ProcessorReplies.setHeader;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_HEADERS;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.RESPONSE_BODY;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.RESPONSE_HEADERS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** What a processor's replies do to the exchange, and which of them Envoy ignores or rejects. */
class EnvoyExtProcDriverMutationTest {

  private static final String JSON = "{\"model\":\"fast\"}";
  private static final UpstreamResponse OK =
      UpstreamResponse.ok("application/json", "{\"id\":\"1\"}");

  private static ExchangeResult run(
      ExternalProcessor config,
      ScriptedProcessor processor,
      DownstreamRequest request,
      UpstreamResponse response)
      throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      return EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config)
          .build()
          .exchange(request, Upstream.returning(response));
    }
  }

  /** Answers request headers with {@code onRequestHeaders}, everything else with CONTINUE. */
  private static ScriptedProcessor onRequestHeaders(ProcessingResponse reply) {
    return ScriptedProcessor.of((request, replies) ->
        replies.send(request.hasRequestHeaders() ? reply : ProcessorReplies.continueFor(request)));
  }

  private static ScriptedProcessor answering(
      Function<ProcessingRequest, ProcessingResponse> script) {
    return ScriptedProcessor.of((request, replies) -> replies.send(script.apply(request)));
  }

  private static DownstreamRequest chat() {
    return DownstreamRequest.post("/v1/chat/completions", JSON)
        .header("content-type", "application/json")
        .header("x-tenant", "acme")
        .header("x-trace", "1")
        .build();
  }

  @Test
  void headerMutationSetsAppendsAndRemovesHeadersBeforeUpstreamSeesThem() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(mutating(headerMutation(
                setHeader("x-tenant", "acme-eu"),
                appendHeader("x-trace", "2"),
                setHeader("x-llmgw-model", "gpt-4o"))
            .toBuilder()
            .addRemoveHeaders("content-type")
            .build()))),
        chat(),
        OK);

    Headers upstream = result.upstream().headers();
    assertThat(upstream.getAll("x-tenant")).containsExactly("acme-eu");
    assertThat(upstream.getAll("x-trace")).containsExactly("1", "2");
    assertThat(upstream.get("x-llmgw-model")).contains("gpt-4o");
    assertThat(upstream.contains("content-type")).isFalse();
    assertThat(result.stat("rejected_header_mutations")).isZero();
  }

  @Test
  void appendActionIsNotReadByEnvoy134SoTheHeaderIsOverwritten() throws Exception {
    HeaderValueOption addIfAbsent = HeaderValueOption.newBuilder()
        .setHeader(rawHeader("x-tenant", "other"))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT)
        .build();

    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(mutating(headerMutation(addIfAbsent)))),
        chat(),
        OK);

    assertThat(result.upstream().headers().getAll("x-tenant")).containsExactly("other");
    assertThat(result.notes()).anyMatch(n -> n.contains("append_action ADD_IF_ABSENT"));
  }

  @Test
  void valueWithoutRawValueSetsAnEmptyHeaderBecauseEnvoyReadsRawValue() throws Exception {
    HeaderValueOption legacy = HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey("x-llmgw-model").setValue("gpt-4o"))
        .build();

    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(mutating(headerMutation(legacy)))),
        chat(),
        OK);

    assertThat(result.upstream().headers().get("x-llmgw-model")).contains("");
    assertThat(result.notes()).anyMatch(n -> n.contains("has value but no raw_value"));
  }

  @Test
  void routingAndEnvoyHeadersAreProtectedByDefaultAndTheChangeIsIgnored() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(mutating(headerMutation(
            setHeader(":authority", "evil.example"),
            setHeader("x-envoy-retry-on", "5xx"),
            setHeader(":path", "/v1/responses"))))),
        chat(),
        OK);

    Headers upstream = result.upstream().headers();
    assertThat(upstream.get(":authority")).contains("gateway.test");
    assertThat(upstream.contains("x-envoy-retry-on")).isFalse();
    assertThat(upstream.get(":path"))
        .as(":path is not a routing-protected header")
        .contains("/v1/responses");
    assertThat(result.stat("rejected_header_mutations")).isEqualTo(2);
    assertThat(result.localReply()).isEmpty();
  }

  @Test
  void disallowedChangeFailsTheRequestWith500WhenDisallowIsError() throws Exception {
    ExternalProcessor strict = ExternalProcessor.newBuilder()
        .setMutationRules(HeaderMutationRules.newBuilder().setDisallowIsError(BoolValue.of(true)))
        .build();

    ExchangeResult result = run(
        strict,
        onRequestHeaders(ProcessorReplies.requestHeaders(
            mutating(headerMutation(setHeader(":authority", "x"))))),
        chat(),
        OK);

    assertThat(result.clientResponse().status()).isEqualTo(500);
    assertThat(result.localReply()).hasValueSatisfying(reply -> {
      assertThat(reply.origin()).isEqualTo(LocalReply.Origin.EXT_PROC_ERROR);
      assertThat(reply.details()).isEqualTo("Invalid_attempt_to_modify_:authority");
    });
    assertThat(result.upstreamRequest()).isEmpty();
  }

  @Test
  void mutationRulesCanOpenRoutingHeadersToTheProcessor() throws Exception {
    ExternalProcessor open = ExternalProcessor.newBuilder()
        .setMutationRules(HeaderMutationRules.newBuilder().setAllowAllRouting(BoolValue.of(true)))
        .build();

    ExchangeResult result = run(
        open,
        onRequestHeaders(ProcessorReplies.requestHeaders(
            mutating(headerMutation(setHeader(":authority", "api.openai.com"))))),
        chat(),
        OK);

    assertThat(result.upstream().headers().get(":authority")).contains("api.openai.com");
  }

  @Test
  void pseudoHeadersAndHostCanNeverBeRemoved() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(
            ProcessorReplies.requestHeaders(mutating(removing(":path", "host", "x-trace")))),
        DownstreamRequest.post("/v1/x", JSON)
            .header("host", "gateway.test")
            .header("x-trace", "1")
            .build(),
        OK);

    assertThat(result.upstream().headers().get(":path")).contains("/v1/x");
    assertThat(result.upstream().headers().contains("host")).isTrue();
    assertThat(result.upstream().headers().contains("x-trace")).isFalse();
    assertThat(result.stat("rejected_header_mutations")).isEqualTo(2);
  }

  @Test
  void bufferedBodyReplacementWithAStaleContentLengthFailsTheRequest() throws Exception {
    ExchangeResult result = run(
        config(mode().setRequestBodyMode(BodySendMode.BUFFERED)),
        answering(request -> request.hasRequestBody()
            ? ProcessorReplies.requestBody(CommonResponse.newBuilder()
                .setBodyMutation(replaceBody("{\"model\":\"gpt-4o-mini\"}"))
                .build())
            : ProcessorReplies.continueFor(request)),
        DownstreamRequest.post("/v1/chat/completions", JSON)
            .header("content-length", Integer.toString(JSON.length()))
            .build(),
        OK);

    assertThat(result.clientResponse().status()).isEqualTo(500);
    assertThat(result.localReply())
        .map(LocalReply::details)
        .contains("mismatch_between_content_length_and_the_length_of_the_mutated_body");
  }

  @Test
  void bufferedBodyReplacementReachesUpstreamWhenTheProcessorFixesContentLength() throws Exception {
    String rewritten = "{\"model\":\"gpt-4o-mini\"}";
    ExchangeResult result = run(
        config(mode().setRequestBodyMode(BodySendMode.BUFFERED)),
        answering(request -> request.hasRequestBody()
            ? ProcessorReplies.requestBody(CommonResponse.newBuilder()
                .setHeaderMutation(headerMutation(
                    setHeader("content-length", Integer.toString(rewritten.length())),
                    setHeader("x-llmgw-route", "openai")))
                .setBodyMutation(replaceBody(rewritten))
                .setClearRouteCache(true)
                .build())
            : ProcessorReplies.continueFor(request)),
        DownstreamRequest.post("/v1/chat/completions", JSON)
            .header("content-length", Integer.toString(JSON.length()))
            .build(),
        OK);

    assertThat(result.upstream().bodyUtf8()).isEqualTo(rewritten);
    assertThat(result.upstream().headers().get("content-length"))
        .contains(Integer.toString(rewritten.length()));
    assertThat(result.upstream().headers().get("x-llmgw-route")).contains("openai");
    assertThat(result.routeCacheClears()).singleElement().satisfies(clear -> {
      assertThat(clear.reply()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_BODY);
      assertThat(clear.beforeRouting())
          .as("BUFFERED holds the headers until the body reply")
          .isTrue();
    });
  }

  @Test
  void streamedBodyReplyCannotChangeHeadersAnyMore() throws Exception {
    ExchangeResult result = run(
        config(mode().setRequestBodyMode(BodySendMode.STREAMED)),
        answering(request -> request.hasRequestBody()
            ? ProcessorReplies.requestBody(mutating(headerMutation(setHeader("x-late", "1"))))
            : ProcessorReplies.continueFor(request)),
        chat(),
        OK);

    assertThat(result.upstream().headers().contains("x-late")).isFalse();
    assertThat(result.notes()).anyMatch(n -> n.contains("header_mutation ignored"));
  }

  @Test
  void continueAndReplaceOnRequestHeadersReplacesTheBodyAndSkipsTheBodyPhase() throws Exception {
    ExchangeResult result = run(
        config(mode().setRequestBodyMode(BodySendMode.BUFFERED)),
        onRequestHeaders(ProcessorReplies.requestHeaders(CommonResponse.newBuilder()
            .setStatus(CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE)
            .setBodyMutation(replaceBody("{\"replaced\":true}"))
            .build())),
        DownstreamRequest.post("/v1/chat/completions", "{\"original\":1}")
            .header("content-length", "14")
            .build(),
        OK);

    assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS);
    assertThat(result.upstream().bodyUtf8()).isEqualTo("{\"replaced\":true}");
    assertThat(result.upstream().headers().contains("content-length")).isFalse();
    assertThat(result.upstream().chunks())
        .extracting(ReleasedChunk::afterSourceChunk)
        .as("released with the headers, before the original body arrived")
        .containsExactly(-1);
  }

  @Test
  void continueAndReplaceCanTurnAGetIntoAPostWithABody() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(CommonResponse.newBuilder()
            .setStatus(CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE)
            .setHeaderMutation(headerMutation(setHeader(":method", "POST")))
            .setBodyMutation(replaceBody("{}"))
            .build())),
        DownstreamRequest.builder().method("GET").path("/v1/models").build(),
        OK);

    assertThat(result.upstream().headers().get(":method")).contains("POST");
    assertThat(result.upstream().bodyUtf8()).isEqualTo("{}");
  }

  @Test
  void bodyMutationOnAContinueHeadersReplyIsIgnored() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(
            CommonResponse.newBuilder().setBodyMutation(replaceBody("{}")).build())),
        chat(),
        OK);

    assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
    assertThat(result.notes()).anyMatch(n -> n.contains("body_mutation ignored"));
  }

  @Test
  void clearRouteCacheWithoutAHeaderMutationIsIgnored() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(
            CommonResponse.newBuilder().setClearRouteCache(true).build())),
        chat(),
        OK);

    assertThat(result.routeCacheClears()).isEmpty();
    assertThat(result.upstream().routeCacheCleared()).isFalse();
    assertThat(result.stat("clear_route_cache_ignored")).isEqualTo(1);
  }

  @Test
  void clearRouteCacheWithAHeaderMutationClearsBeforeRouting() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(ProcessorReplies.requestHeaders(CommonResponse.newBuilder()
            .setHeaderMutation(headerMutation(setHeader("x-llmgw-route", "anthropic")))
            .setClearRouteCache(true)
            .build())),
        chat(),
        OK);

    assertThat(result.upstream().routeCacheCleared()).isTrue();
    assertThat(result.upstream().headers().get("x-llmgw-route")).contains("anthropic");
  }

  @Test
  void routeCacheActionRetainKeepsTheRouteAndCountsIt() throws Exception {
    ExternalProcessor retain = ExternalProcessor.newBuilder()
        .setRouteCacheAction(ExternalProcessor.RouteCacheAction.RETAIN)
        .build();

    ExchangeResult result = run(
        retain,
        onRequestHeaders(ProcessorReplies.requestHeaders(CommonResponse.newBuilder()
            .setHeaderMutation(headerMutation(setHeader("x-llmgw-route", "anthropic")))
            .setClearRouteCache(true)
            .build())),
        chat(),
        OK);

    assertThat(result.routeCacheClears()).isEmpty();
    assertThat(result.stat("clear_route_cache_disabled")).isEqualTo(1);
  }

  @Test
  void routeCacheActionClearClearsOnAnyHeaderMutation() throws Exception {
    ExternalProcessor clear = ExternalProcessor.newBuilder()
        .setRouteCacheAction(ExternalProcessor.RouteCacheAction.CLEAR)
        .build();

    ExchangeResult result = run(
        clear,
        onRequestHeaders(
            ProcessorReplies.requestHeaders(mutating(headerMutation(setHeader("x-a", "b"))))),
        chat(),
        OK);

    assertThat(result.routeCacheClearedBeforeRouting()).isTrue();
  }

  @Test
  void dynamicMetadataIsKeptOnlyForReceivingNamespacesAndMerged() throws Exception {
    ExternalProcessor receiving = ExternalProcessor.newBuilder()
        .setMetadataOptions(MetadataOptions.newBuilder()
            .setReceivingNamespaces(
                MetadataOptions.MetadataNamespaces.newBuilder().addUntyped("llmgw")))
        .build();
    ScriptedProcessor tagging = answering(request -> {
      ProcessingResponse.Builder reply = ProcessorReplies.continueFor(request).toBuilder();
      if (request.hasRequestHeaders()) {
        reply.setDynamicMetadata(Struct.newBuilder()
            .putFields("llmgw", struct("tenant", "acme", "model", "fast"))
            .putFields("other.filter", struct("x", "y")));
      } else if (request.hasResponseHeaders()) {
        reply.setDynamicMetadata(
            Struct.newBuilder().putFields("llmgw", struct("model", "gpt-4o", "cost_usd", "0.002")));
      }
      return reply.build();
    });

    ExchangeResult result = run(receiving, tagging, chat(), OK);

    assertThat(result.dynamicMetadata()).containsOnlyKeys("llmgw");
    assertThat(result.dynamicMetadata().get("llmgw").getFieldsMap())
        .containsEntry("tenant", Value.newBuilder().setStringValue("acme").build())
        .containsEntry("model", Value.newBuilder().setStringValue("gpt-4o").build())
        .containsEntry("cost_usd", Value.newBuilder().setStringValue("0.002").build());
    assertThat(result.notes()).anyMatch(n -> n.contains("'other.filter' dropped"));
  }

  @Test
  void dynamicMetadataIsDroppedWithoutReceivingNamespaces() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(
            ProcessorReplies.requestHeaders(CommonResponse.getDefaultInstance()).toBuilder()
                .setDynamicMetadata(
                    Struct.newBuilder().putFields(EnvoyExtProcDriver.FILTER_NAME, struct("k", "v")))
                .build()),
        chat(),
        OK);

    assertThat(result.dynamicMetadata()).isEmpty();
  }

  @Test
  void forwardingNamespacesCarryMetadataIntoLaterMessages() throws Exception {
    ExternalProcessor roundTrip = ExternalProcessor.newBuilder()
        .setMetadataOptions(MetadataOptions.newBuilder()
            .setReceivingNamespaces(
                MetadataOptions.MetadataNamespaces.newBuilder().addUntyped("llmgw"))
            .setForwardingNamespaces(MetadataOptions.MetadataNamespaces.newBuilder()
                .addUntyped("llmgw")
                .addUntyped("jwt")))
        .build();

    ExchangeResult result = run(
        roundTrip,
        onRequestHeaders(
            ProcessorReplies.requestHeaders(CommonResponse.getDefaultInstance()).toBuilder()
                .setDynamicMetadata(
                    Struct.newBuilder().putFields("llmgw", struct("tenant", "acme")))
                .build()),
        DownstreamRequest.post("/v1/x", JSON)
            .dynamicMetadata("jwt", struct("sub", "user-1").getStructValue())
            .build(),
        OK);

    ProcessingRequest first = result.sent(REQUEST_HEADERS).get(0);
    ProcessingRequest later = result.sent(RESPONSE_HEADERS).get(0);
    assertThat(first.getMetadataContext().getFilterMetadataMap()).containsOnlyKeys("jwt");
    assertThat(later.getMetadataContext().getFilterMetadataMap()).containsKeys("jwt", "llmgw");
  }

  @Test
  void modeOverrideFromTheRequestHeadersReplyTurnsOnResponseBodyProcessing() throws Exception {
    ExternalProcessor overridable =
        ExternalProcessor.newBuilder().setAllowModeOverride(true).build();

    ExchangeResult result = run(
        overridable,
        onRequestHeaders(
            ProcessorReplies.requestHeaders(CommonResponse.getDefaultInstance()).toBuilder()
                .setModeOverride(
                    ProcessingMode.newBuilder().setResponseBodyMode(BodySendMode.STREAMED))
                .build()),
        chat(),
        UpstreamResponse.ok("text/event-stream", "data: a\n\n", "data: b\n\n"));

    assertThat(result.phasesSent())
        .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_BODY);
  }

  @Test
  void modeOverrideFromTheResponseHeadersReplyTurnsOnResponseBodyProcessing() throws Exception {
    ExternalProcessor overridable =
        ExternalProcessor.newBuilder().setAllowModeOverride(true).build();

    ExchangeResult result = run(
        overridable,
        answering(request -> request.hasResponseHeaders()
            ? ProcessorReplies.continueFor(request).toBuilder()
                .setModeOverride(
                    ProcessingMode.newBuilder().setResponseBodyMode(BodySendMode.STREAMED))
                .build()
            : ProcessorReplies.continueFor(request)),
        chat(),
        UpstreamResponse.ok("text/event-stream", "data: a\n\n", "data: b\n\n"));

    assertThat(result.phasesSent())
        .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_BODY);
    assertThat(result.clientResponse().chunks())
        .extracting(ReleasedChunk::afterSourceChunk)
        .containsExactly(0, 1);
  }

  @Test
  void modeOverrideIsIgnoredWithoutAllowModeOverride() throws Exception {
    ExchangeResult result = run(
        ExternalProcessor.getDefaultInstance(),
        onRequestHeaders(
            ProcessorReplies.requestHeaders(CommonResponse.getDefaultInstance()).toBuilder()
                .setModeOverride(
                    ProcessingMode.newBuilder().setResponseBodyMode(BodySendMode.STREAMED))
                .build()),
        chat(),
        UpstreamResponse.ok("text/event-stream", "data: a\n\n"));

    assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS);
    assertThat(result.notes())
        .anyMatch(n -> n.contains("mode_override ignored: allow_mode_override is false"));
  }

  @Test
  void modeOverrideOutsideAllowedOverrideModesIsIgnored() throws Exception {
    ExternalProcessor restricted = ExternalProcessor.newBuilder()
        .setAllowModeOverride(true)
        .addAllowedOverrideModes(
            ProcessingMode.newBuilder().setResponseBodyMode(BodySendMode.BUFFERED))
        .build();

    ExchangeResult result = run(
        restricted,
        onRequestHeaders(
            ProcessorReplies.requestHeaders(CommonResponse.getDefaultInstance()).toBuilder()
                .setModeOverride(
                    ProcessingMode.newBuilder().setResponseBodyMode(BodySendMode.STREAMED))
                .build()),
        chat(),
        UpstreamResponse.ok("text/event-stream", "data: a\n\n"));

    assertThat(result.phasesSent()).doesNotContain(RESPONSE_BODY);
    assertThat(result.notes()).anyMatch(n -> n.contains("not in allowed_override_modes"));
  }

  @Test
  void modeOverrideOnABodyReplyIsIgnored() throws Exception {
    ExternalProcessor overridable =
        config(mode().setRequestBodyMode(BodySendMode.BUFFERED)).toBuilder()
            .setAllowModeOverride(true)
            .build();

    ExchangeResult result = run(
        overridable,
        answering(request -> request.hasRequestBody()
            ? ProcessorReplies.continueFor(request).toBuilder()
                .setModeOverride(
                    ProcessingMode.newBuilder().setResponseHeaderMode(HeaderSendMode.SKIP))
                .build()
            : ProcessorReplies.continueFor(request)),
        chat(),
        OK);

    assertThat(result.phasesSent()).contains(RESPONSE_HEADERS);
    assertThat(result.notes()).anyMatch(n -> n.contains("not waiting for a headers reply"));
  }

  @Test
  void trailerMutationChangesTheTrailersTheClientSees() throws Exception {
    ExternalProcessor trailers = config(mode().setResponseTrailerMode(HeaderSendMode.SEND));

    ExchangeResult result = run(
        trailers,
        answering(request -> request.hasResponseTrailers()
            ? ProcessorReplies.responseTrailers(headerMutation(setHeader("x-llmgw-cost", "0.01")))
            : ProcessorReplies.continueFor(request)),
        chat(),
        UpstreamResponse.builder(200).chunk("x").trailer("grpc-status", "0").build());

    assertThat(result.clientResponse().trailers()).hasValueSatisfying(t -> {
      assertThat(t.get("x-llmgw-cost")).contains("0.01");
      assertThat(t.get("grpc-status")).contains("0");
    });
  }

  @Test
  void responseBodyCanBeClearedChunkByChunkInStreamedMode() throws Exception {
    ExchangeResult result = run(
        config(mode().setResponseBodyMode(BodySendMode.STREAMED)),
        answering(request ->
            request.hasResponseBody() && DriverTestSupport.bodyOf(request).contains("secret")
                ? ProcessorReplies.responseBody(CommonResponse.newBuilder()
                    .setBodyMutation(ProcessorReplies.clearBody())
                    .build())
                : ProcessorReplies.continueFor(request)),
        chat(),
        UpstreamResponse.ok("text/event-stream", "data: a\n\n", "data: secret\n\n", "data: b\n\n"));

    assertThat(result.clientResponse().chunks())
        .extracting(ReleasedChunk::utf8)
        .containsExactly("data: a\n\n", "data: b\n\n");
    assertThat(result.sent(RESPONSE_BODY)).hasSize(3);
  }

  private static Value struct(String... kv) {
    Struct.Builder s = Struct.newBuilder();
    for (int i = 0; i < kv.length; i += 2) {
      s.putFields(kv[i], Value.newBuilder().setStringValue(kv[i + 1]).build());
    }
    return Value.newBuilder().setStructValue(s).build();
  }
}
