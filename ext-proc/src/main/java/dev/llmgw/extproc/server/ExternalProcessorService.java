package dev.llmgw.extproc.server;

import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's side of each HTTP stream arrives here as one {@code Process} gRPC stream. For now every
 * phase is answered with CONTINUE and no mutation; the LLM-aware state machine replaces this.
 */
final class ExternalProcessorService extends ExternalProcessorGrpc.ExternalProcessorImplBase {

  private static final Logger log = LoggerFactory.getLogger(ExternalProcessorService.class);

  @Override
  public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ProcessingRequest request) {
        ProcessingResponse response = continueResponse(request);
        if (response == null) {
          responses.onError(Status.INVALID_ARGUMENT
              .withDescription("ProcessingRequest has no phase set (expected one of request_headers, request_body, "
                  + "request_trailers, response_headers, response_body, response_trailers)")
              .asRuntimeException());
          return;
        }
        responses.onNext(response);
      }

      @Override
      public void onError(Throwable t) {
        log.debug("ext_proc stream ended by Envoy: {}", Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        responses.onCompleted();
      }
    };
  }

  /** The CONTINUE answer for the phase {@code request} carries, or null when it carries none. */
  static ProcessingResponse continueResponse(ProcessingRequest request) {
    return switch (request.getRequestCase()) {
      case REQUEST_HEADERS -> ProcessingResponse.newBuilder().setRequestHeaders(HeadersResponse.getDefaultInstance()).build();
      case RESPONSE_HEADERS -> ProcessingResponse.newBuilder().setResponseHeaders(HeadersResponse.getDefaultInstance()).build();
      case REQUEST_BODY -> ProcessingResponse.newBuilder().setRequestBody(BodyResponse.getDefaultInstance()).build();
      case RESPONSE_BODY -> ProcessingResponse.newBuilder().setResponseBody(BodyResponse.getDefaultInstance()).build();
      case REQUEST_TRAILERS -> ProcessingResponse.newBuilder().setRequestTrailers(TrailersResponse.getDefaultInstance()).build();
      case RESPONSE_TRAILERS -> ProcessingResponse.newBuilder().setResponseTrailers(TrailersResponse.getDefaultInstance()).build();
      case REQUEST_NOT_SET -> null;
    };
  }
}
