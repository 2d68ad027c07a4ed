package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.BlockingQueue;

/**
 * One {@code Process} call — Envoy opens one per HTTP stream, lazily, when it first has something to
 * send. Everything the processor sends lands in the run's inbox, so the run handles it on its own
 * thread in arrival order, like Envoy's single dispatcher thread.
 */
final class ProcessorStream {

  /** Something the processor did. */
  sealed interface Inbound permits Message, Closed {}

  record Message(ProcessingResponse response) implements Inbound {}

  /** The processor ended the call: {@code onCompleted} (OK) or {@code onError}. */
  record Closed(Status status) implements Inbound {}

  private final Channel channel;
  private final Metadata initialMetadata;
  private final BlockingQueue<Inbound> inbox;
  private ClientCallStreamObserver<ProcessingRequest> requests;
  private boolean closedLocally;
  private boolean closedRemotely;

  ProcessorStream(Channel channel, Metadata initialMetadata, BlockingQueue<Inbound> inbox) {
    this.channel = requireNonNull(channel, "channel");
    this.initialMetadata = requireNonNull(initialMetadata, "initialMetadata");
    this.inbox = requireNonNull(inbox, "inbox");
  }

  boolean isOpen() {
    return requests != null;
  }

  boolean closedLocally() {
    return closedLocally;
  }

  /** The processor ended the call; closing it again is a no-op, as Envoy's {@code stream_closed_}. */
  void markClosedRemotely() {
    closedRemotely = true;
  }

  void open() {
    Channel target = ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(initialMetadata));
    ExternalProcessorGrpc.newStub(target)
        .process(new ClientResponseObserver<ProcessingRequest, ProcessingResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<ProcessingRequest> requestStream) {
            requests = requestStream;
          }

          @Override
          public void onNext(ProcessingResponse response) {
            inbox.add(new Message(response));
          }

          @Override
          public void onError(Throwable t) {
            inbox.add(new Closed(Status.fromThrowable(t)));
          }

          @Override
          public void onCompleted() {
            inbox.add(new Closed(Status.OK));
          }
        });
  }

  void send(ProcessingRequest request) {
    if (closedLocally || closedRemotely) {
      return;
    }
    try {
      requests.onNext(request);
    } catch (RuntimeException e) {
      // The call already ended; its Closed event is in the inbox and decides what happens.
    }
  }

  /**
   * {@code ExternalProcessorStreamImpl::close}: half-close, then reset — Envoy does not wait for the
   * processor to finish (graceful close is an opt-in runtime flag).
   */
  void closeAndReset() {
    if (requests == null || closedLocally || closedRemotely) {
      return;
    }
    closedLocally = true;
    try {
      requests.onCompleted();
    } catch (RuntimeException ignored) {
      // already closed by the processor
    }
    requests.cancel("ext_proc filter closed the side stream", null);
  }

  /** Observability mode defers the close; the processor may still be reading, so only half-close. */
  void halfClose() {
    if (requests == null || closedLocally || closedRemotely) {
      return;
    }
    closedLocally = true;
    try {
      requests.onCompleted();
    } catch (RuntimeException ignored) {
      // already closed by the processor
    }
  }
}
