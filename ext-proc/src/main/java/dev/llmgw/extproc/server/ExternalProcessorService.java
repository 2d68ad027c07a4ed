package dev.llmgw.extproc.server;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.PolicyStore;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's side of each HTTP stream arrives here as one {@code Process} gRPC stream, handled by a
 * fresh {@link ProcessingStream} that reads the policy in force when the stream starts.
 */
final class ExternalProcessorService extends ExternalProcessorGrpc.ExternalProcessorImplBase {

  private final PolicyStore policies;
  private final List<ExchangeListener> listeners;
  private final ExtProcMetrics metrics;

  ExternalProcessorService(
      PolicyStore policies, List<ExchangeListener> listeners, ExtProcMetrics metrics) {
    this.policies = policies;
    this.listeners = Pipeline.of(listeners).stages();
    this.metrics = metrics;
  }

  @Override
  public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
    return new ProcessingStream(responses, policies.current(), listeners, metrics);
  }

  /** The CONTINUE answer for the phase {@code request} carries, or null when it carries none. */
  static @Nullable ProcessingResponse continueResponse(ProcessingRequest request) {
    return switch (request.getRequestCase()) {
      case REQUEST_HEADERS ->
        ProcessingResponse.newBuilder()
            .setRequestHeaders(HeadersResponse.getDefaultInstance())
            .build();
      case RESPONSE_HEADERS ->
        ProcessingResponse.newBuilder()
            .setResponseHeaders(HeadersResponse.getDefaultInstance())
            .build();
      case REQUEST_BODY ->
        ProcessingResponse.newBuilder()
            .setRequestBody(BodyResponse.getDefaultInstance())
            .build();
      case RESPONSE_BODY ->
        ProcessingResponse.newBuilder()
            .setResponseBody(BodyResponse.getDefaultInstance())
            .build();
      case REQUEST_TRAILERS ->
        ProcessingResponse.newBuilder()
            .setRequestTrailers(TrailersResponse.getDefaultInstance())
            .build();
      case RESPONSE_TRAILERS ->
        ProcessingResponse.newBuilder()
            .setResponseTrailers(TrailersResponse.getDefaultInstance())
            .build();
      case REQUEST_NOT_SET -> null;
    };
  }
}
