package dev.llmgw.extproc.driver;

import static dev.llmgw.extproc.driver.DriverTestSupport.config;
import static dev.llmgw.extproc.driver.DriverTestSupport.mode;
import static dev.llmgw.extproc.driver.ProcessorReplies.headerMutation;
import static dev.llmgw.extproc.driver.ProcessorReplies.setHeader;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_BODY;
import static io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase.REQUEST_HEADERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Immediate responses, protocol errors, timeouts and broken streams, and how failure_mode_allow changes them. */
class EnvoyExtProcDriverFailureTest {

  private static final String JSON = "{\"model\":\"gpt-4o\"}";
  private static final DownstreamRequest CHAT = DownstreamRequest.post("/v1/chat/completions", JSON)
      .header("content-type", "application/json")
      .build();
  private static final UpstreamResponse OK =
      UpstreamResponse.ok("application/json", "{\"id\":\"1\"}");
  private static final UpstreamResponse SSE = UpstreamResponse.ok(
      "text/event-stream", "data: one\n\n", "data: two\n\n", "data: [DONE]\n\n");

  private static ExchangeResult run(
      EnvoyExtProcDriver.Builder driver, DownstreamRequest request, Upstream upstream) {
    return driver.build().exchange(request, upstream);
  }

  private static Upstream neverCalled() {
    return request -> {
      throw new AssertionError("the request must not reach upstream, but it did: " + request);
    };
  }

  @Test
  void immediateResponseAtRequestHeadersAnswersTheClientAndNeverReachesUpstream() throws Exception {
    ProcessingResponse budgetExceeded = ProcessingResponse.newBuilder()
        .setImmediateResponse(ImmediateResponse.newBuilder()
            .setStatus(HttpStatus.newBuilder().setCodeValue(429))
            .setHeaders(headerMutation(
                setHeader("content-type", "application/json"), setHeader("retry-after", "30")))
            .setBody(ByteString.copyFromUtf8("{\"error\":{\"code\":\"budget_exceeded\"}}"))
            .setDetails("llmgw budget exceeded"))
        .build();
    ScriptedProcessor processor =
        ScriptedProcessor.of((request, replies) -> replies.send(budgetExceeded));
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = run(EnvoyExtProcDriver.builder(grpc.channel()), CHAT, neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(429);
      assertThat(result.clientResponse().headers().get("content-type"))
          .contains("application/json");
      assertThat(result.clientResponse().headers().get("retry-after")).contains("30");
      assertThat(result.clientResponse().bodyUtf8())
          .isEqualTo("{\"error\":{\"code\":\"budget_exceeded\"}}");
      assertThat(result.localReply()).hasValueSatisfying(reply -> {
        assertThat(reply.origin()).isEqualTo(LocalReply.Origin.PROCESSOR);
        assertThat(reply.details()).as("whitespace becomes _").isEqualTo("llmgw_budget_exceeded");
      });
      assertThat(result.upstreamRequest()).isEmpty();
      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS);
    }
  }

  @Test
  void immediateResponseAtABufferedRequestBodyNeverReachesUpstream() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.of((request, replies) -> replies.send(
        request.hasRequestBody()
            ? ProcessorReplies.immediate(400, "bad json", "invalid_body")
            : ProcessorReplies.continueFor(request)));
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setRequestBodyMode(BodySendMode.BUFFERED))),
          CHAT,
          neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(400);
      assertThat(result.clientResponse().headers().get("content-type")).contains("text/plain");
      assertThat(result.upstreamRequest()).as("BUFFERED held the headers too").isEmpty();
      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS, REQUEST_BODY);
    }
  }

  @Test
  void immediateResponseAtAStreamedRequestBodyResetsWhatAlreadyWentUpstream() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.of((request, replies) -> replies.send(
        request.hasRequestBody()
                && request.getRequestBody().getBody().toStringUtf8().contains("card")
            ? ProcessorReplies.immediate(400, "pii", "pii_blocked")
            : ProcessorReplies.continueFor(request)));
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setRequestBodyMode(BodySendMode.STREAMED))),
          DownstreamRequest.builder()
              .method("POST")
              .path("/v1/x")
              .chunks("hello ", "card 4111", " bye")
              .build(),
          neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(400);
      assertThat(result.upstream().complete()).isFalse();
      assertThat(result.upstream().bodyUtf8()).isEqualTo("hello ");
    }
  }

  @Test
  void immediateResponseAtResponseHeadersReplacesTheUpstreamResponse() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.of((request, replies) -> replies.send(
        request.hasResponseHeaders()
            ? ProcessorReplies.immediate(502, "provider failed", "provider_error")
            : ProcessorReplies.continueFor(request)));
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result =
          run(EnvoyExtProcDriver.builder(grpc.channel()), CHAT, Upstream.returning(OK));

      assertThat(result.upstream().complete()).isTrue();
      assertThat(result.clientResponse().status()).isEqualTo(502);
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("provider failed");
      assertThat(result.clientResponse().reset()).isFalse();
    }
  }

  @Test
  void immediateResponseAfterStreamedResponseHeadersLeftResetsTheClientStream() throws Exception {
    ScriptedProcessor processor = ScriptedProcessor.of((request, replies) -> replies.send(
        request.hasResponseBody()
                && request.getResponseBody().getBody().toStringUtf8().contains("two")
            ? ProcessorReplies.immediate(500, "stop", "late")
            : ProcessorReplies.continueFor(request)));
    try (InProcessExtProc grpc = InProcessExtProc.serving(processor)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setResponseBodyMode(BodySendMode.STREAMED))),
          CHAT,
          Upstream.returning(SSE));

      assertThat(result.clientResponse().reset()).isTrue();
      assertThat(result.clientResponse().status()).isEqualTo(200);
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("data: one\n\n");
      assertThat(result.localReply()).isEmpty();
    }
  }

  @Test
  void wrongPhaseReplyFailsTheRequestWith500WhenFailureModeAllowIsFalse() throws Exception {
    ScriptedProcessor confused = ScriptedProcessor.of((request, replies) ->
        replies.send(ProcessorReplies.responseHeaders(CommonResponse.getDefaultInstance())));
    try (InProcessExtProc grpc = InProcessExtProc.serving(confused)) {
      ExchangeResult result = run(EnvoyExtProcDriver.builder(grpc.channel()), CHAT, neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(500);
      assertThat(result.localReply()).hasValueSatisfying(reply -> {
        assertThat(reply.origin()).isEqualTo(LocalReply.Origin.EXT_PROC_ERROR);
        assertThat(reply.details()).isEqualTo("spurious_message");
      });
      assertThat(result.stat("spurious_msgs_received")).isEqualTo(1);
    }
  }

  @Test
  void wrongPhaseReplyLetsTheExchangeContinueUnmodifiedWhenFailureModeAllowIsTrue()
      throws Exception {
    ScriptedProcessor confused =
        ScriptedProcessor.of((request, replies) -> replies.send(ProcessorReplies.requestBody(
            ProcessorReplies.mutating(headerMutation(setHeader("x-never", "1"))))));
    try (InProcessExtProc grpc = InProcessExtProc.serving(confused)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(
                  ExternalProcessor.newBuilder().setFailureModeAllow(true).build()),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.upstream().headers()).isEqualTo(CHAT.headers());
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.phasesSent())
          .as("Envoy stops consulting the processor")
          .containsExactly(REQUEST_HEADERS);
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("{\"id\":\"1\"}");
      assertThat(result.stat("spurious_msgs_received")).isEqualTo(1);
      assertThat(result.stat("failure_mode_allowed")).isEqualTo(1);
    }
  }

  @Test
  void wrongPhaseReplyIsIgnoredWhateverFailureModeAllowSaysUnderEnvoy134Handling()
      throws Exception {
    ScriptedProcessor confused = ScriptedProcessor.of((request, replies) ->
        replies.send(ProcessorReplies.responseHeaders(CommonResponse.getDefaultInstance())));
    try (InProcessExtProc grpc = InProcessExtProc.serving(confused)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .spuriousMessages(SpuriousMessageHandling.IGNORE_AND_CONTINUE),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.clientResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void streamedResponseOutsideFullDuplexModeIsSpurious() throws Exception {
    ScriptedProcessor duplexMinded = ScriptedProcessor.of((request, replies) -> replies.send(
        request.hasResponseBody()
            ? ProcessorReplies.streamedResponseBody(request.getResponseBody().getBody(), false)
            : ProcessorReplies.continueFor(request)));
    try (InProcessExtProc grpc = InProcessExtProc.serving(duplexMinded)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setResponseBodyMode(BodySendMode.STREAMED))),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.clientResponse().reset())
          .as("STREAMED response headers already left")
          .isTrue();
      assertThat(result.clientResponse().bodyUtf8()).isEmpty();
      assertThat(result.stat("spurious_msgs_received")).isEqualTo(1);
      assertThat(result.notes())
          .anyMatch(n -> n.contains(
              "streamed_response is received while body_mode_ is not FULL_DUPLEX_STREAMED"));
    }
  }

  @Test
  void disabledImmediateResponseIsTreatedAsSpurious() throws Exception {
    ScriptedProcessor rejecting = ScriptedProcessor.of(
        (request, replies) -> replies.send(ProcessorReplies.immediate(403, "no", "denied")));
    try (InProcessExtProc grpc = InProcessExtProc.serving(rejecting)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(ExternalProcessor.newBuilder()
                  .setDisableImmediateResponse(true)
                  .build()),
          CHAT,
          neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(500);
      assertThat(result.localReply())
          .map(LocalReply::details)
          .contains("unhandled_immediate_response_due_to_config_disabled_it");
    }
  }

  @Test
  void processorThatNeverAnswersTimesOutWith504() throws Exception {
    ScriptedProcessor silent = ScriptedProcessor.of((request, replies) -> {});
    try (InProcessExtProc grpc = InProcessExtProc.serving(silent)) {
      long start = System.nanoTime();
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(ExternalProcessor.newBuilder()
                  .setMessageTimeout(
                      com.google.protobuf.Duration.newBuilder().setNanos(100_000_000))
                  .build()),
          CHAT,
          neverCalled());
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(result.clientResponse().status()).isEqualTo(504);
      assertThat(result.localReply())
          .map(LocalReply::details)
          .contains("ext_proc_error_per-message_timeout_exceeded");
      assertThat(result.stat("message_timeouts")).isEqualTo(1);
      assertThat(elapsedMs).as("waited for message_timeout").isGreaterThanOrEqualTo(100);
    }
  }

  @Test
  void timeoutWithFailureModeAllowForwardsTheHeldBodyUnmodified() throws Exception {
    ScriptedProcessor silentOnBody = ScriptedProcessor.of((request, replies) -> {
      if (!request.hasRequestBody()) {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(silentOnBody)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setRequestBodyMode(BodySendMode.BUFFERED)).toBuilder()
                  .setFailureModeAllow(true)
                  .setMessageTimeout(com.google.protobuf.Duration.newBuilder().setNanos(50_000_000))
                  .build()),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.stat("message_timeouts")).isEqualTo(1);
      assertThat(result.stat("failure_mode_allowed")).isEqualTo(1);
      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS, REQUEST_BODY);
    }
  }

  @Test
  void overrideMessageTimeoutGivesTheProcessorMoreTimeOnce() throws Exception {
    ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
    ScriptedProcessor slow = ScriptedProcessor.of((request, replies) -> {
      if (request.hasRequestHeaders()) {
        replies.send(ProcessingResponse.newBuilder()
            .setOverrideMessageTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2))
            .setRequestHeaders(HeadersResponse.getDefaultInstance())
            .build());
        later.schedule(
            () -> replies.send(ProcessorReplies.continueFor(request)), 150, TimeUnit.MILLISECONDS);
      } else {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(slow)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(ExternalProcessor.newBuilder()
                  .setMessageTimeout(com.google.protobuf.Duration.newBuilder().setNanos(50_000_000))
                  .setMaxMessageTimeout(
                      com.google.protobuf.Duration.newBuilder().setSeconds(5))
                  .build()),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.stat("override_message_timeout_received")).isEqualTo(1);
      assertThat(result.stat("stream_msgs_received"))
          .as("the override message itself is not a reply")
          .isEqualTo(2);
    } finally {
      later.shutdownNow();
    }
  }

  @Test
  void overrideMessageTimeoutAboveMaxMessageTimeoutIsIgnored() throws Exception {
    ScriptedProcessor greedy =
        ScriptedProcessor.of((request, replies) -> replies.send(ProcessingResponse.newBuilder()
            .setOverrideMessageTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(60))
            .build()));
    try (InProcessExtProc grpc = InProcessExtProc.serving(greedy)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(ExternalProcessor.newBuilder()
                  .setMessageTimeout(com.google.protobuf.Duration.newBuilder().setNanos(50_000_000))
                  .setMaxMessageTimeout(
                      com.google.protobuf.Duration.newBuilder().setSeconds(1))
                  .build()),
          CHAT,
          neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(504);
      assertThat(result.stat("override_message_timeout_ignored")).isEqualTo(1);
    }
  }

  @Test
  void processorClosingTheStreamEarlyLetsTheExchangeContinueUnprocessed() throws Exception {
    ScriptedProcessor quitter = ScriptedProcessor.of((request, replies) -> replies.complete());
    try (InProcessExtProc grpc = InProcessExtProc.serving(quitter)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode()
                  .setRequestBodyMode(BodySendMode.BUFFERED)
                  .setResponseBodyMode(BodySendMode.STREAMED))),
          CHAT,
          Upstream.returning(SSE));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.phasesSent()).containsExactly(REQUEST_HEADERS);
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.clientResponse().bodyUtf8())
          .isEqualTo("data: one\n\ndata: two\n\ndata: [DONE]\n\n");
      assertThat(result.stat("streams_closed")).isEqualTo(1);
    }
  }

  @Test
  void processorErrorFailsTheRequestWith500() throws Exception {
    ScriptedProcessor broken =
        ScriptedProcessor.of((request, replies) -> replies.fail(Status.UNAVAILABLE));
    try (InProcessExtProc grpc = InProcessExtProc.serving(broken)) {
      ExchangeResult result = run(EnvoyExtProcDriver.builder(grpc.channel()), CHAT, neverCalled());

      assertThat(result.clientResponse().status()).isEqualTo(500);
      assertThat(result.localReply())
          .map(LocalReply::details)
          .contains("ext_proc_error_gRPC_error_14");
      assertThat(result.stat("streams_failed")).isEqualTo(1);
    }
  }

  @Test
  void processorErrorWithFailureModeAllowLetsTheExchangeContinue() throws Exception {
    ScriptedProcessor broken =
        ScriptedProcessor.of((request, replies) -> replies.fail(Status.INTERNAL));
    try (InProcessExtProc grpc = InProcessExtProc.serving(broken)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(
                  ExternalProcessor.newBuilder().setFailureModeAllow(true).build()),
          CHAT,
          Upstream.returning(OK));

      assertThat(result.localReply()).isEmpty();
      assertThat(result.upstream().bodyUtf8()).isEqualTo(JSON);
      assertThat(result.stat("failure_mode_allowed")).isEqualTo(1);
    }
  }

  @Test
  void processorErrorAfterTheResponseStartedResetsTheClientStream() throws Exception {
    ScriptedProcessor breaksMidStream = ScriptedProcessor.of((request, replies) -> {
      if (request.hasResponseBody()
          && request.getResponseBody().getBody().toStringUtf8().contains("two")) {
        replies.fail(Status.UNAVAILABLE);
      } else {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(breaksMidStream)) {
      ExchangeResult result = run(
          EnvoyExtProcDriver.builder(grpc.channel())
              .filterConfig(config(mode().setResponseBodyMode(BodySendMode.STREAMED))),
          CHAT,
          Upstream.returning(SSE));

      assertThat(result.clientResponse().reset()).isTrue();
      assertThat(result.clientResponse().bodyUtf8()).isEqualTo("data: one\n\n");
    }
  }

  @Test
  void silentProcessorInFullDuplexModeStallsTheDriverWithAnExplanation() throws Exception {
    ScriptedProcessor silentOnBody = ScriptedProcessor.of((request, replies) -> {
      if (!request.hasResponseBody()) {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
    try (InProcessExtProc grpc = InProcessExtProc.serving(silentOnBody)) {
      EnvoyExtProcDriver.Builder driver = EnvoyExtProcDriver.builder(grpc.channel())
          .filterConfig(config(mode()
              .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
              .setResponseTrailerMode(HeaderSendMode.SEND)))
          .duplexSettle(Duration.ZERO)
          .stallTimeout(Duration.ofMillis(150));

      assertThatThrownBy(() -> run(driver, CHAT, Upstream.returning(SSE)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Envoy runs no message timer here");
    }
  }
}
