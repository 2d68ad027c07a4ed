package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A fake external processor driven by a script, for testing the driver and for tests that need a
 * processor with one specific behaviour (a wrong-phase reply, silence, an early close). Each
 * {@code Process} stream gets a fresh script from the supplier, so a script may keep per-stream state.
 */
public final class ScriptedProcessor extends ExternalProcessorGrpc.ExternalProcessorImplBase {

  /** Reacts to each message Envoy sends on one stream. */
  @FunctionalInterface
  public interface Script {
    void onRequest(ProcessingRequest request, Replies replies);
  }

  /** What a script can do on its stream. */
  public interface Replies {
    void send(ProcessingResponse response);

    /** Ends the stream cleanly (status OK). */
    void complete();

    /** Ends the stream with an error status. */
    void fail(Status status);
  }

  private final Supplier<Script> scripts;
  private final List<ProcessingRequest> requests = new CopyOnWriteArrayList<>();

  public ScriptedProcessor(Supplier<Script> scripts) {
    this.scripts = requireNonNull(scripts, "scripts");
  }

  /** A processor whose every stream runs the same stateless script. */
  public static ScriptedProcessor of(Script script) {
    requireNonNull(script, "script");
    return new ScriptedProcessor(() -> script);
  }

  /** Answers every message with a plain CONTINUE (streamed echo in FULL_DUPLEX_STREAMED), like a pass-through. */
  public static ScriptedProcessor continuing() {
    return new ScriptedProcessor(() -> {
      ProtocolTracker protocol = new ProtocolTracker();
      return (request, replies) -> replies.send(protocol.continueFor(request));
    });
  }

  /** Every message received, across streams, in order. */
  public List<ProcessingRequest> requests() {
    return requests;
  }

  @Override
  public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
    ServerCallStreamObserver<ProcessingResponse> call =
        (ServerCallStreamObserver<ProcessingResponse>) responses;
    call.setOnCancelHandler(() -> {});
    Script script = scripts.get();
    Replies replies = new Replies() {
      private boolean closed;

      @Override
      public synchronized void send(ProcessingResponse response) {
        if (!closed && !call.isCancelled()) {
          call.onNext(response);
        }
      }

      @Override
      public synchronized void complete() {
        if (!closed && !call.isCancelled()) {
          closed = true;
          call.onCompleted();
        }
      }

      @Override
      public synchronized void fail(Status status) {
        if (!closed && !call.isCancelled()) {
          closed = true;
          call.onError(status.asRuntimeException());
        }
      }
    };
    return new StreamObserver<>() {
      @Override
      public void onNext(ProcessingRequest request) {
        requests.add(request);
        script.onRequest(request, replies);
      }

      @Override
      public void onError(Throwable t) {
        // Envoy reset the stream; nothing to answer.
      }

      @Override
      public void onCompleted() {
        replies.complete();
      }
    };
  }

  /**
   * Remembers the body modes from the first message's {@code protocol_config}, so a script can answer
   * FULL_DUPLEX_STREAMED bodies with {@code streamed_response} as Envoy requires.
   */
  public static final class ProtocolTracker {
    private io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration protocol;

    public void observe(ProcessingRequest request) {
      if (protocol == null && request.hasProtocolConfig()) {
        protocol = request.getProtocolConfig();
      }
    }

    public boolean duplex(ProcessingRequest request) {
      observe(request);
      if (protocol == null) {
        return false;
      }
      var duplex = io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode
          .BodySendMode.FULL_DUPLEX_STREAMED;
      return request.hasRequestBody()
          ? protocol.getRequestBodyMode() == duplex
          : request.hasResponseBody() && protocol.getResponseBodyMode() == duplex;
    }

    /** CONTINUE for the message's phase; a streamed echo for a FULL_DUPLEX_STREAMED body chunk. */
    public ProcessingResponse continueFor(ProcessingRequest request) {
      if (duplex(request)) {
        return request.hasRequestBody()
            ? ProcessorReplies.streamedRequestBody(
                request.getRequestBody().getBody(), request.getRequestBody().getEndOfStream())
            : ProcessorReplies.streamedResponseBody(
                request.getResponseBody().getBody(), request.getResponseBody().getEndOfStream());
      }
      return ProcessorReplies.continueFor(request);
    }
  }
}
