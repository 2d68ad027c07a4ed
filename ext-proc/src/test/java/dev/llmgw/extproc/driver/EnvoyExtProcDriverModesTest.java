package dev.llmgw.extproc.driver;

import static dev.llmgw.extproc.driver.DriverTestSupport.bodyOf;
import static dev.llmgw.extproc.driver.DriverTestSupport.config;
import static dev.llmgw.extproc.driver.DriverTestSupport.endOfStreamOf;
import static dev.llmgw.extproc.driver.DriverTestSupport.header;
import static dev.llmgw.extproc.driver.DriverTestSupport.mode;
import static dev.llmgw.extproc.driver.DriverTestSupport.upperCasingBodies;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_BODY;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_HEADERS;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_TRAILERS;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.RESPONSE_BODY;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.RESPONSE_HEADERS;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.RESPONSE_TRAILERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Which messages Envoy sends, in which order, with which end_of_stream, per processing mode. */
class EnvoyExtProcDriverModesTest {

  private static final String JSON = "{\"model\":\"gpt-4o\",\"messages\":[]}";
  private static final UpstreamResponse SSE = UpstreamResponse.builder(200)
      .header("content-type", "text/event-stream")
      .header("content-length", "33")
      .chunks("data: one\n\n", "data: two\n\n", "data: [DONE]\n\n")
      .build();

  @Test
  void headersOnlyModeSendsRequestAndResponseHeadersAndNothingElse() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.continuing();
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", JSON)
                  .header("content-type", "application/json")
                  .header("content-length", Integer.toString(JSON.length()))
                  .build(),
              Upstream.returning(UpstreamResponse.ok("application/json", "{\"ok\":true}")));

      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS);
      assertThat(processor.requests()).hasSize(2);
      ProcessingRequest first = result.requestsToProcessor().get(0);
      assertThat(first.getRequestHeaders().getEndOfStream()).isFalse();
      assertThat(header(first.getRequestHeaders().getHeaders(), ":method")).contains("POST");
      assertThat(header(first.getRequestHeaders().getHeaders(), ":path"))
          .contains("/v1/chat/completions");
      assertThat(header(first.getRequestHeaders().getHeaders(), ":authority"))
          .contains("gateway.test");
      assertThat(header(first.getRequestHeaders().getHeaders(), ":scheme")).contains("https");
      assertThat(first.getRequestHeaders().getHeaders().getHeaders(0).getValue())
          .as("Envoy fills raw_value, not value")
          .isEmpty();
      assertThat(first.hasProtocolConfig()).isTrue();
      assertThat(first.getProtocolConfig().getRequestBodyMode()).isEqualTo(BodySendMode.NONE);
      assertThat(result.requestsToProcessor().get(1).hasProtocolConfig()).isFalse();
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.upstream().headers().get("content-length"))
          .contains(Integer.toString(JSON.length()));
      assertThat(result.clientResponse().status()).isEqualTo(200);
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("{\"ok\":true}");
      assertThat(result.stat("stream_msgs_sent")).isEqualTo(2);
      assertThat(result.stat("stream_msgs_received")).isEqualTo(2);
    }
  }

  @Test
  void responseAttributesGoOnceWithTheFirstResponseMessageUnderTheFilterName() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.continuing();
    String servedBy = "xds.upstream_host_metadata.filter_metadata.llmgw.provider";
    String unknown = "xds.cluster_metadata.filter_metadata.other.key";
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setResponseBodyMode(BodySendMode.STREAMED)).toBuilder()
              .addResponseAttributes(servedBy)
              .addResponseAttributes(unknown)
              .build())
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", JSON).build(),
              Upstream.returning(UpstreamResponse.builder(200)
                  .chunks("data: one\n\n", "data: two\n\n")
                  .attribute(servedBy, "primary")
                  .build()));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_BODY);
      assertThat(result.requestsToProcessor().get(0).getAttributesMap())
          .as("request_attributes are not configured")
          .isEmpty();
      assertThat(result.requestsToProcessor().get(1).getAttributesMap())
          .containsOnlyKeys(EnvoyExtProcDriver.FILTER_NAME);
      assertThat(result
              .requestsToProcessor()
              .get(1)
              .getAttributesMap()
              .get(EnvoyExtProcDriver.FILTER_NAME)
              .getFieldsMap())
          .as("an expression Envoy could not evaluate is left out")
          .containsOnlyKeys(servedBy)
          .hasEntrySatisfying(servedBy, v -> assertThat(v.getStringValue()).isEqualTo("primary"));
      assertThat(result.requestsToProcessor().subList(2, 4))
          .allSatisfy(r -> assertThat(r.getAttributesMap()).isEmpty());
    }
  }

  @Test
  void requestWithoutBodyMarksItsHeadersEndOfStream() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .build()
          .exchange(
              DownstreamRequest.builder().method("GET").path("/v1/models").build(),
              Upstream.returning(UpstreamResponse.builder(204).build()));

      assertThat(result.sent(REQUEST_HEADERS).get(0).getRequestHeaders().getEndOfStream())
          .isTrue();
      assertThat(result.sent(RESPONSE_HEADERS).get(0).getResponseHeaders().getEndOfStream())
          .isTrue();
      assertThat(result.clientResponse().status()).isEqualTo(204);
    }
  }

  @Test
  void bufferedModeSendsTheWholeBodyOnceAfterTheLastChunk() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setRequestBodyMode(BodySendMode.BUFFERED)))
          .build()
          .exchange(
              DownstreamRequest.builder()
                  .method("POST")
                  .path("/v1/chat/completions")
                  .header("content-length", "15")
                  .chunks("{\"a\":", "1,\"b\"", ":22}")
                  .build(),
              Upstream.returning(UpstreamResponse.ok("application/json", "{}")));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, REQUEST_BODY, RESPONSE_HEADERS);
      ProcessingRequest body = result.sent(REQUEST_BODY).get(0);
      assertThat(bodyOf(body)).isEqualTo("{\"a\":1,\"b\":22}");
      assertThat(body.getRequestBody().getEndOfStream()).isTrue();
      assertThat(result.upstream().chunks())
          .singleElement()
          .satisfies(c -> assertThat(c.afterSourceChunk())
              .as("released only after the last chunk")
              .isEqualTo(2));
      assertThat(result.upstream().headers().get("content-length"))
          .as("BUFFERED with headers sent keeps content-length")
          .contains("15");
    }
  }

  @Test
  void bufferedModeAnswers413WhenTheRequestBodyExceedsTheBufferLimit() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setRequestBodyMode(BodySendMode.BUFFERED)))
          .bufferLimitBytes(8)
          .build()
          .exchange(
              DownstreamRequest.builder()
                  .method("POST")
                  .path("/v1/embeddings")
                  .chunks("12345", "67890")
                  .build(),
              request -> {
                throw new AssertionError("upstream must not be called");
              });

      assertThat(result.localReply()).hasValueSatisfying(reply -> {
        assertThat(reply.status()).isEqualTo(413);
        assertThat(reply.origin()).isEqualTo(LocalReply.Origin.BUFFER_LIMIT);
        assertThat(reply.details()).isEqualTo("request_payload_too_large");
      });
      assertThat(result.clientResponse().status()).isEqualTo(413);
      assertThat(result.upstreamRequest()).isEmpty();
      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS);
    }
  }

  @Test
  void bufferedResponseBodyOverTheLimitBecomes500() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setResponseBodyMode(BodySendMode.BUFFERED)))
          .bufferLimitBytes(8)
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", "{}").build(),
              Upstream.returning(UpstreamResponse.ok("application/json", "{\"choices\":", "[]}")));

      assertThat(result.upstream().complete()).isTrue();
      assertThat(result.clientResponse().status()).isEqualTo(500);
      assertThat(result.localReply())
          .map(LocalReply::details)
          .contains("response_payload_too_large");
    }
  }

  /**
   * ext-proc's answer to a JSON response it will rewrite: STREAMED through {@code mode_override} on the
   * response headers reply, the headers reply removing content-length or not, the body replaced.
   */
  private static ScriptedProcessor streamedOnResponseHeadersThenReplaced(
      boolean removeContentLength) {
    return ScriptedProcessor.of((request, replies) -> {
      if (request.hasResponseHeaders()) {
        CommonResponse common = removeContentLength
            ? ProcessorReplies.mutating(ProcessorReplies.removing("content-length"))
            : CommonResponse.getDefaultInstance();
        replies.send(ProcessorReplies.responseHeaders(common).toBuilder()
            .setModeOverride(mode().setResponseBodyMode(BodySendMode.STREAMED))
            .build());
      } else if (request.hasResponseBody()) {
        replies.send(ProcessorReplies.responseBody(CommonResponse.newBuilder()
            .setBodyMutation(ProcessorReplies.replaceBody(bodyOf(request) + "!"))
            .build()));
      } else {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
  }

  private static final UpstreamResponse JSON_AT_ONCE = UpstreamResponse.builder(200)
      .header("content-type", "application/json")
      .header("content-length", "10")
      .chunks("{\"a\":", "\"bc\"}")
      .bodyWithHeaders()
      .build();

  @Test
  void bodyArrivingWithTheHeadersIsSentWholeWhileTheHeadersWaitAndMustMatchContentLength()
      throws Exception {
    // Envoy 1.40, seen by it-tests' DriverDifferentialTest: a replaced body with the provider's
    // content-length still on the held headers is refused with a 500, even in STREAMED mode.
    try (InProcessExtProc grpc =
        InProcessExtProc.serving(streamedOnResponseHeadersThenReplaced(false))) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(GatewayFilterConfig.EXT_PROC)
          .build()
          .exchange(
              DownstreamRequest.builder().method("GET").path("/v1/models").build(),
              Upstream.returning(JSON_AT_ONCE));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY);
      assertThat(result.sent(RESPONSE_BODY))
          .extracting(DriverTestSupport::bodyOf)
          .containsExactly("{\"a\":\"bc\"}");
      assertThat(result.sent(RESPONSE_BODY))
          .extracting(DriverTestSupport::endOfStreamOf)
          .containsExactly(true);
      assertThat(result.clientResponse().status()).isEqualTo(500);
      assertThat(result.localReply())
          .map(LocalReply::details)
          .contains("mismatch_between_content_length_and_the_length_of_the_mutated_body");
    }
  }

  @Test
  void bodyArrivingWithTheHeadersIsReplacedWhenTheHeadersReplyRemovedContentLength()
      throws Exception {
    try (InProcessExtProc grpc =
        InProcessExtProc.serving(streamedOnResponseHeadersThenReplaced(true))) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(GatewayFilterConfig.EXT_PROC)
          .build()
          .exchange(
              DownstreamRequest.builder().method("GET").path("/v1/models").build(),
              Upstream.returning(JSON_AT_ONCE));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.clientResponse().status()).isEqualTo(200);
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("{\"a\":\"bc\"}!");
      assertThat(result.clientResponse().headers().contains("content-length")).isFalse();
    }
  }

  @Test
  void bodyArrivingAfterTheHeadersReplyGoesOutUncheckedInStreamedMode() throws Exception {
    // The other side of the race: the headers already left with content-length, nothing checks the
    // body.
    try (InProcessExtProc grpc =
        InProcessExtProc.serving(streamedOnResponseHeadersThenReplaced(false))) {
      UpstreamResponse later = UpstreamResponse.builder(200)
          .header("content-type", "application/json")
          .header("content-length", "10")
          .chunks("{\"a\":\"bc\"}")
          .build();
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(GatewayFilterConfig.EXT_PROC)
          .build()
          .exchange(
              DownstreamRequest.builder().method("GET").path("/v1/models").build(),
              Upstream.returning(later));

      assertThat(result.clientResponse().status()).isEqualTo(200);
      assertThat(result.clientResponse().headers().get("content-length")).contains("10");
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("{\"a\":\"bc\"}!");
    }
  }

  @Test
  void streamedModeReleasesEachProcessedChunkRightAfterItArrives() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(upperCasingBodies())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setResponseBodyMode(BodySendMode.STREAMED)))
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", JSON).build(),
              Upstream.returning(SSE));

      assertThat(result.phasesSent())
          .containsExactly(
              REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_BODY, RESPONSE_BODY);
      assertThat(result.sent(RESPONSE_BODY))
          .extracting(DriverTestSupport::endOfStreamOf)
          .containsExactly(false, false, true);
      assertThat(result.clientResponse().chunks())
          .extracting(ReleasedChunk::utf8)
          .containsExactly("DATA: ONE\n\n", "DATA: TWO\n\n", "DATA: [DONE]\n\n");
      assertThat(result.clientResponse().chunks())
          .extracting(ReleasedChunk::afterSourceChunk)
          .as("no hold-back: chunk i leaves right after upstream chunk i")
          .containsExactly(0, 1, 2);
      assertThat(result.clientResponse().headers().contains("content-length"))
          .as("STREAMED removes content-length")
          .isFalse();
      assertThat(result
              .sent(RESPONSE_HEADERS)
              .get(0)
              .getResponseHeaders()
              .getHeaders()
              .getHeadersList())
          .as("the processor still sees it")
          .anyMatch(h -> h.getKey().equals("content-length"));
    }
  }

  @Test
  void streamedModeWithTrailersEndsTheBodyWithoutEndOfStreamAndThenSendsTrailers()
      throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setRequestBodyMode(BodySendMode.STREAMED)
              .setRequestTrailerMode(HeaderSendMode.SEND)))
          .build()
          .exchange(
              DownstreamRequest.builder()
                  .method("POST")
                  .path("/grpc.Svc/Call")
                  .chunks("ab", "cd")
                  .trailer("x-checksum", "abcd")
                  .build(),
              Upstream.returning(UpstreamResponse.builder(200).build()));

      assertThat(result.phasesSent())
          .containsExactly(
              REQUEST_HEADERS, REQUEST_BODY, REQUEST_BODY, REQUEST_TRAILERS, RESPONSE_HEADERS);
      assertThat(result.sent(REQUEST_BODY))
          .extracting(DriverTestSupport::endOfStreamOf)
          .containsExactly(false, false);
      assertThat(result.sent(REQUEST_HEADERS).get(0).getRequestHeaders().getEndOfStream())
          .isFalse();
      assertThat(header(
              result.sent(REQUEST_TRAILERS).get(0).getRequestTrailers().getTrailers(),
              "x-checksum"))
          .contains("abcd");
      assertThat(result.upstream().bodyUtf8()).isEqualTo("abcd");
      assertThat(result.upstream().trailers())
          .hasValueSatisfying(t -> assertThat(t.get("x-checksum")).contains("abcd"));
    }
  }

  @Test
  void trailersAreNotSentUnlessTrailerModeIsSend() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setResponseBodyMode(BodySendMode.BUFFERED)))
          .build()
          .exchange(
              DownstreamRequest.post("/v1/x", "{}").build(),
              Upstream.returning(UpstreamResponse.builder(200)
                  .chunk("body")
                  .trailer("grpc-status", "0")
                  .build()));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY);
      assertThat(endOfStreamOf(result.sent(RESPONSE_BODY).get(0)))
          .as("trailers follow, so the buffered body is not end of stream")
          .isFalse();
      assertThat(result.clientResponse().trailers())
          .hasValueSatisfying(t -> assertThat(t.get("grpc-status")).contains("0"));
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("body");
    }
  }

  @Test
  void responseTrailersAreSentLastWhenTrailerModeIsSend() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(ScriptedProcessor.continuing())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setResponseBodyMode(BodySendMode.BUFFERED)
              .setResponseTrailerMode(HeaderSendMode.SEND)))
          .build()
          .exchange(
              DownstreamRequest.post("/v1/x", "{}").build(),
              Upstream.returning(UpstreamResponse.builder(200)
                  .chunk("body")
                  .trailer("grpc-status", "0")
                  .build()));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_TRAILERS);
    }
  }

  @Test
  void fullDuplexStreamedReleasesEachStreamedReplyAsItArrives() throws Exception {
    ScriptedProcessor upperEcho = new ScriptedProcessor(() -> {
      ScriptedProcessor.ProtocolTracker protocol = new ScriptedProcessor.ProtocolTracker();
      return (request, replies) -> {
        if (request.hasResponseBody() && protocol.duplex(request)) {
          replies.send(ProcessorReplies.streamedResponseBody(
              ByteString.copyFromUtf8(bodyOf(request).toUpperCase(Locale.ROOT)),
              endOfStreamOf(request)));
        } else {
          replies.send(protocol.continueFor(request));
        }
      };
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(upperEcho)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
              .setResponseTrailerMode(HeaderSendMode.SEND)))
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", JSON).build(),
              Upstream.returning(SSE));

      assertThat(result.requestsToProcessor().get(0).getProtocolConfig().getResponseBodyMode())
          .isEqualTo(BodySendMode.FULL_DUPLEX_STREAMED);
      assertThat(result.sent(RESPONSE_BODY))
          .extracting(DriverTestSupport::endOfStreamOf)
          .containsExactly(false, false, true);
      assertThat(result.clientResponse().chunks())
          .extracting(ReleasedChunk::utf8)
          .containsExactly("DATA: ONE\n\n", "DATA: TWO\n\n", "DATA: [DONE]\n\n");
      assertThat(result.clientResponse().chunks())
          .extracting(ReleasedChunk::afterSourceChunk)
          .containsExactly(0, 1, 2);
      assertThat(result.clientResponse().headers().contains("content-length")).isFalse();
    }
  }

  @Test
  void fullDuplexStreamedShowsAProcessorThatHoldsTheBodyBack() throws Exception {
    ScriptedProcessor holdingBack = new ScriptedProcessor(() -> {
      StringBuilder seen = new StringBuilder();
      return (request, replies) -> {
        if (request.hasResponseBody()) {
          seen.append(bodyOf(request));
          if (endOfStreamOf(request)) {
            replies.send(ProcessorReplies.streamedResponseBody(
                ByteString.copyFromUtf8(seen.toString()), true));
          }
        } else {
          replies.send(ProcessorReplies.continueFor(request));
        }
      };
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(holdingBack)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
              .setResponseTrailerMode(HeaderSendMode.SEND)))
          .duplexSettle(Duration.ofMillis(5))
          .build()
          .exchange(
              DownstreamRequest.post("/v1/chat/completions", JSON).build(),
              Upstream.returning(SSE));

      assertThat(result.clientResponse().bodyUtf8())
          .isEqualTo("data: one\n\ndata: two\n\ndata: [DONE]\n\n");
      assertThat(result.clientResponse().chunks())
          .extracting(ReleasedChunk::afterSourceChunk)
          .as("everything left only after the last upstream chunk")
          .containsExactly(2);
    }
  }

  @Test
  void fullDuplexStreamedLetsTheProcessorReadTheBodyBeforeAnsweringTheHeaders() throws Exception {
    ScriptedProcessor routeByBody = new ScriptedProcessor(() -> {
      StringBuilder body = new StringBuilder();
      return (request, replies) -> {
        switch (request.getRequestCase()) {
          case REQUEST_HEADERS -> {} // answered once the body is known
          case REQUEST_BODY -> {
            body.append(bodyOf(request));
            if (endOfStreamOf(request)) {
              replies.send(ProcessorReplies.requestHeaders(CommonResponse.newBuilder()
                  .setHeaderMutation(ProcessorReplies.headerMutation(ProcessorReplies.setHeader(
                      "x-llmgw-route", body.toString().contains("gpt") ? "openai" : "other")))
                  .setClearRouteCache(true)
                  .build()));
              replies.send(ProcessorReplies.streamedRequestBody(
                  ByteString.copyFromUtf8(body.toString()), true));
            }
          }
          default -> replies.send(ProcessorReplies.continueFor(request));
        }
      };
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(routeByBody)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setRequestBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
              .setRequestTrailerMode(HeaderSendMode.SEND)))
          .duplexSettle(Duration.ofMillis(5))
          .build()
          .exchange(
              DownstreamRequest.builder()
                  .method("POST")
                  .path("/v1/chat/completions")
                  .chunks("{\"model\":", "\"gpt-4o\"", "}")
                  .build(),
              Upstream.returning(UpstreamResponse.ok("application/json", "{}")));

      assertThat(result.phasesSent())
          .as("Envoy does not wait for the headers reply in FULL_DUPLEX_STREAMED")
          .startsWith(REQUEST_HEADERS, REQUEST_BODY, REQUEST_BODY, REQUEST_BODY);
      assertThat(result.upstream().chunks())
          .extracting(ReleasedChunk::afterSourceChunk)
          .as("the processor answered only once it had the whole body")
          .containsExactly(2);
      assertThat(result.upstream().headers().get("x-llmgw-route")).contains("openai");
      assertThat(result.upstream().bodyUtf8()).isEqualTo("{\"model\":\"gpt-4o\"}");
      assertThat(result.routeCacheClearedBeforeRouting()).isTrue();
      assertThat(result.upstream().routeCacheCleared()).isTrue();
    }
  }

  @Test
  void fullDuplexStreamedRequiresTrailerModeSendLikeEnvoysConfigValidation() {
    ExternalProcessor missingTrailers =
        config(mode().setRequestBodyMode(BodySendMode.FULL_DUPLEX_STREAMED));

    assertThatThrownBy(() -> EnvoyExtProcDriver.builder(new NoChannel())
            .filterConfig(missingTrailers)
            .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("request_trailer_mode has to be set to SEND");
  }

  @Test
  void fullDuplexStreamedRejectsFailureModeAllowLikeEnvoy134() {
    ExternalProcessor failOpen = config(mode()
            .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
            .setResponseTrailerMode(HeaderSendMode.SEND))
        .toBuilder()
        .setFailureModeAllow(true)
        .build();

    assertThatThrownBy(() ->
            EnvoyExtProcDriver.builder(new NoChannel()).filterConfig(failOpen).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("failure_mode_allow has to be left as false");
  }

  @Test
  void skippedPhasesAreNeverSentAndNoStreamOpensWhenEverythingIsSkipped() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.continuing();
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setRequestHeaderMode(HeaderSendMode.SKIP)
              .setResponseHeaderMode(HeaderSendMode.SKIP)))
          .build()
          .exchange(DownstreamRequest.post("/v1/x", JSON).build(), Upstream.returning(SSE));

      assertThat(result.requestsToProcessor()).isEmpty();
      assertThat(result.stat("streams_started")).isZero();
      assertThat(processor.requests()).isEmpty();
      assertThat(result.clientResponse().bodyUtf8())
          .isEqualTo("data: one\n\ndata: two\n\ndata: [DONE]\n\n");
    }
  }

  @Test
  void skippedHeaderPhaseStillLetsTheBodyBeStreamed() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(upperCasingBodies())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setRequestHeaderMode(HeaderSendMode.SKIP)
              .setResponseHeaderMode(HeaderSendMode.SKIP)
              .setResponseBodyMode(BodySendMode.STREAMED)))
          .build()
          .exchange(DownstreamRequest.post("/v1/x", JSON).build(), Upstream.returning(SSE));

      assertThat(result.phasesSent()).containsExactly(RESPONSE_BODY, RESPONSE_BODY, RESPONSE_BODY);
      assertThat(result.requestsToProcessor().get(0).hasProtocolConfig()).isTrue();
      assertThat(result.clientResponse().bodyUtf8()).startsWith("DATA: ONE");
    }
  }

  @Test
  void bufferedPartialSendsWhatFitsTheBufferThenLetsTheRestThrough() throws Exception {
    try (InProcessExtProc grpc = InProcessExtProc.serving(upperCasingBodies())) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode().setRequestBodyMode(BodySendMode.BUFFERED_PARTIAL)))
          .bufferLimitBytes(8)
          .build()
          .exchange(
              DownstreamRequest.builder()
                  .method("POST")
                  .path("/v1/x")
                  .chunks("aaaa", "bbbbb", "cc", "dd")
                  .build(),
              Upstream.returning(UpstreamResponse.builder(200).build()));

      assertThat(result.sent(REQUEST_BODY)).singleElement().satisfies(body -> {
        assertThat(bodyOf(body)).isEqualTo("aaaabbbbb");
        assertThat(body.getRequestBody().getEndOfStream()).isFalse();
      });
      assertThat(result.upstream().bodyUtf8()).isEqualTo("AAAABBBBBccdd");
      assertThat(result.upstream().chunks())
          .extracting(ReleasedChunk::afterSourceChunk)
          .containsExactly(1, 2, 3);
    }
  }

  @Test
  void observabilityModeSendsEveryPhaseWithoutWaitingAndIgnoresReplies() throws Exception {
    ScriptedProcessor rejecting = ScriptedProcessor.of(
        (request, replies) -> replies.send(ProcessorReplies.immediate(403, "no", "blocked")));
    try (InProcessExtProc grpc = InProcessExtProc.serving(rejecting)) {
      ExchangeResult result = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
                  .setRequestBodyMode(BodySendMode.STREAMED)
                  .setResponseBodyMode(BodySendMode.BUFFERED))
              .toBuilder()
              .setObservabilityMode(true)
              .build())
          .build()
          .exchange(DownstreamRequest.post("/v1/x", JSON).build(), Upstream.returning(SSE));

      assertThat(result.phasesSent())
          .containsExactly(REQUEST_HEADERS, REQUEST_BODY, RESPONSE_HEADERS);
      assertThat(result.requestsToProcessor())
          .allMatch(ProcessingRequest::getObservabilityMode)
          .noneMatch(ProcessingRequest::hasProtocolConfig);
      assertThat(result.localReply()).isEmpty();
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.clientResponse().status()).isEqualTo(200);
      assertThat(result.notes()).anyMatch(n -> n.contains("only STREAMED bodies"));
    }
  }

  /** A channel that must never be used: config validation fails before any call. */
  private static final class NoChannel extends io.grpc.Channel {
    @Override
    public <Q, R> io.grpc.ClientCall<Q, R> newCall(
        io.grpc.MethodDescriptor<Q, R> method, io.grpc.CallOptions options) {
      throw new AssertionError("no call expected");
    }

    @Override
    public String authority() {
      return "none";
    }
  }
}
