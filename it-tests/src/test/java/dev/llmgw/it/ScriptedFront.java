package dev.llmgw.it;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmgw.extproc.driver.ProcessorReplies;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * The ext_proc service the differential test's Envoy and driver talk to. A stream whose request
 * headers carry {@link #SCRIPT_HEADER} is answered by the named script, which gives the answers the
 * production processor never gives (a body replaced while content-length stays, an immediate response
 * to the response headers, ...); every other stream is relayed to the production ext-proc server.
 */
final class ScriptedFront extends ExternalProcessorGrpc.ExternalProcessorImplBase {

  static final String SCRIPT_HEADER = "x-differential-script";
  private static final Duration ANSWER_LATE = Duration.ofMillis(200);

  /** Answers each message of one stream. */
  @FunctionalInterface
  interface Script {
    ProcessingResponse answer(ProcessingRequest request);
  }

  private final Channel production;
  private final Map<String, Function<ProcessingRequest, Script>> scripts;

  /**
   * @param scripts script name to a factory called with the request headers message, so a script may
   *     keep per-stream state
   */
  ScriptedFront(Channel production, Map<String, Function<ProcessingRequest, Script>> scripts) {
    this.production = requireNonNull(production, "production");
    this.scripts = Map.copyOf(scripts);
  }

  @Override
  public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
    return new StreamObserver<>() {
      private Script script;
      private StreamObserver<ProcessingRequest> relay;

      @Override
      public void onNext(ProcessingRequest request) {
        if (script == null && relay == null) {
          String name = scriptName(request);
          if (name == null) {
            relay = ExternalProcessorGrpc.newStub(production).process(new StreamObserver<>() {
              @Override
              public void onNext(ProcessingResponse response) {
                synchronized (responses) {
                  responses.onNext(response);
                }
              }

              @Override
              public void onError(Throwable t) {
                synchronized (responses) {
                  responses.onError(t);
                }
              }

              @Override
              public void onCompleted() {
                synchronized (responses) {
                  responses.onCompleted();
                }
              }
            });
          } else {
            Function<ProcessingRequest, Script> factory = scripts.get(name);
            if (factory == null) {
              throw new IllegalArgumentException(
                  SCRIPT_HEADER + ": " + name + " (expected one of " + scripts.keySet() + ")");
            }
            script = factory.apply(request);
          }
        }
        if (relay != null) {
          relay.onNext(request);
          return;
        }
        ProcessingResponse answer = script.answer(request);
        if (answer != null) {
          synchronized (responses) {
            responses.onNext(answer);
          }
        }
      }

      @Override
      public void onError(Throwable t) {
        if (relay != null) {
          relay.onError(t);
        }
      }

      @Override
      public void onCompleted() {
        if (relay != null) {
          relay.onCompleted();
        } else {
          synchronized (responses) {
            responses.onCompleted();
          }
        }
      }
    };
  }

  private static String scriptName(ProcessingRequest request) {
    if (!request.hasRequestHeaders()) {
      return null;
    }
    for (HeaderValue h : request.getRequestHeaders().getHeaders().getHeadersList()) {
      if (h.getKey().equals(SCRIPT_HEADER)) {
        return h.getRawValue().toString(StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  // --- the scripts -------------------------------------------------------------------------------

  /** When a script's {@code mode_override} is sent. */
  enum OverrideAt {
    REQUEST_HEADERS,
    RESPONSE_HEADERS
  }

  /**
   * Asks for the response body STREAMED through {@code mode_override} (on the request headers reply,
   * or on the response headers reply as ext-proc does), then appends {@code suffix} to every chunk
   * that is not empty (Envoy may end the body with an empty chunk, the driver never does); when {@code dropContentLength}, the response headers reply also removes content-length
   * (what ext-proc does before a PII restore), otherwise the provider's content-length stays.
   */
  static Function<ProcessingRequest, Script> streamedSuffix(
      OverrideAt at, String suffix, boolean dropContentLength) {
    return first -> request -> {
      if (request.hasResponseHeaders()) {
        answerLate();
      }
      if (request.hasRequestHeaders() || request.hasResponseHeaders()) {
        ProcessingResponse.Builder reply =
            ProcessingResponse.newBuilder(ProcessorReplies.continueFor(request));
        if (request.hasResponseHeaders() && dropContentLength) {
          reply = ProcessingResponse.newBuilder(ProcessorReplies.responseHeaders(
              ProcessorReplies.mutating(ProcessorReplies.removing("content-length"))));
        }
        if (request.hasRequestHeaders() == (at == OverrideAt.REQUEST_HEADERS)) {
          reply.setModeOverride(responseBody(BodySendMode.STREAMED));
        }
        return reply.build();
      }
      if (request.hasResponseBody() && !request.getResponseBody().getBody().isEmpty()) {
        return ProcessorReplies.responseBody(CommonResponse.newBuilder()
            .setBodyMutation(ProcessorReplies.replaceBody(
                request.getResponseBody().getBody().toStringUtf8() + suffix))
            .build());
      }
      return ProcessorReplies.continueFor(request);
    };
  }

  /**
   * Asks for the response body BUFFERED through {@code mode_override} on the response headers reply
   * and replaces it with {@code body}, leaving the provider's content-length as it was.
   */
  static Function<ProcessingRequest, Script> bufferedReplacement(String body) {
    return first -> request -> {
      if (request.hasResponseHeaders()) {
        answerLate();
        return ProcessingResponse.newBuilder(ProcessorReplies.continueFor(request))
            .setModeOverride(responseBody(BodySendMode.BUFFERED))
            .build();
      }
      if (request.hasResponseBody()) {
        return ProcessorReplies.responseBody(CommonResponse.newBuilder()
            .setBodyMutation(ProcessorReplies.replaceBody(body))
            .build());
      }
      return ProcessorReplies.continueFor(request);
    };
  }

  /**
   * Header mutations both ways (set, append, remove, and {@code append_action} other than the
   * default), route cache cleared on the request headers, dynamic metadata with every reply, and an
   * immediate 403 instead of the provider's answer once its headers arrived.
   */
  static Function<ProcessingRequest, Script> mutationsThenRefusal() {
    return first -> request -> {
      if (request.hasRequestHeaders()) {
        return ProcessingResponse.newBuilder()
            .setRequestHeaders(HeadersResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder()
                    .setHeaderMutation(ProcessorReplies.headerMutation(
                            ProcessorReplies.setHeader("x-scripted", "yes"),
                            ProcessorReplies.appendHeader("x-tags", "second"),
                            withAction("x-keep", "processor", HeaderAppendAction.ADD_IF_ABSENT),
                            withAction(
                                "x-absent", "processor", HeaderAppendAction.OVERWRITE_IF_EXISTS))
                        .toBuilder()
                        .addRemoveHeaders("x-remove-me"))
                    .setClearRouteCache(true)))
            .setDynamicMetadata(metadata("phase", "request_headers"))
            .build();
      }
      if (request.hasResponseHeaders()) {
        return ProcessingResponse.newBuilder(ProcessorReplies.immediate(
                403, "{\"error\":\"refused after the answer\"}", "scripted_refusal"))
            .setDynamicMetadata(metadata("phase", "response_headers"))
            .build();
      }
      return ProcessorReplies.continueFor(request);
    };
  }

  private static HeaderValueOption withAction(
      String name, String value, HeaderAppendAction action) {
    return HeaderValueOption.newBuilder()
        .setHeader(ProcessorReplies.rawHeader(name, value))
        .setAppendAction(action)
        .build();
  }

  /**
   * Whether the provider's body reaches Envoy before the response headers reply is a race in Envoy;
   * answering late decides it, so the run through Envoy matches the driver's
   * {@code UpstreamResponse.bodyWithHeaders()}.
   */
  private static void answerLate() {
    try {
      Thread.sleep(ANSWER_LATE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ProcessingMode responseBody(BodySendMode mode) {
    return ProcessingMode.newBuilder()
        .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
        .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
        .setRequestBodyMode(BodySendMode.NONE)
        .setResponseBodyMode(mode)
        .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
        .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
        .build();
  }

  private static Struct metadata(String key, String value) {
    return Struct.newBuilder()
        .putFields(
            "llmgw",
            Value.newBuilder()
                .setStructValue(Struct.newBuilder()
                    .putFields(key, Value.newBuilder().setStringValue(value).build()))
                .build())
        .build();
  }
}
