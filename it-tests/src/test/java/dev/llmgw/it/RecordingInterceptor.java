package dev.llmgw.it;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Records every {@code ExternalProcessor/Process} stream a gRPC server serves: the messages it
 * received, and when the stream ended. Installed on the production ext-proc server, it
 * shows what Envoy (or the driver) actually sent, without changing what the processor does.
 */
final class RecordingInterceptor implements ServerInterceptor {

  /** One {@code Process} stream, as Envoy (or the driver) played it. */
  static final class Recorded {
    final List<ProcessingRequest> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);

    /** Waits until the stream ended (closed by the server, completed or cancelled by the client). */
    Recorded awaitEnd(Duration timeout) throws InterruptedException {
      if (!ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            "the Process stream did not end within " + timeout + "; received so far: " + requests);
      }
      return this;
    }
  }

  private final List<Recorded> streams = new CopyOnWriteArrayList<>();

  /** Streams so far, in the order they were opened. */
  List<Recorded> streams() {
    return List.copyOf(streams);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor()
        .getFullMethodName()
        .equals(ExternalProcessorGrpc.getProcessMethod().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    Recorded stream = new Recorded();
    streams.add(stream);
    ServerCall<Q, R> recording = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        super.close(status, trailers);
        stream.ended.countDown();
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(recording, headers)) {
      @Override
      public void onMessage(Q message) {
        stream.requests.add((ProcessingRequest) message);
        super.onMessage(message);
      }

      @Override
      public void onCancel() {
        super.onCancel();
        stream.ended.countDown();
      }

      @Override
      public void onComplete() {
        super.onComplete();
        stream.ended.countDown();
      }
    };
  }
}
