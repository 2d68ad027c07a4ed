package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Struct;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one simulated exchange produced, for assertions.
 *
 * @param requestsToProcessor every {@code ProcessingRequest} Envoy sent, in order
 * @param responsesFromProcessor every {@code ProcessingResponse} the processor sent, in arrival order,
 *     including ones Envoy ignored
 * @param upstreamRequest what reached the router; empty when Envoy answered before forwarding anything
 * @param clientResponse what the client saw
 * @param localReply the reply Envoy generated instead of forwarding the upstream's, if any
 * @param dynamicMetadata the stream's dynamic metadata ({@code filter_metadata}) at the end, namespace
 *     to struct, as an access log would read it
 * @param routeCacheClears every time Envoy cleared the route cache
 * @param stats the ext_proc filter counters Envoy would have incremented ({@code stream_msgs_sent},
 *     {@code spurious_msgs_received}, {@code rejected_header_mutations}, ...); absent means zero
 * @param notes plain-language notes about processor output Envoy ignored or rejected, to explain a
 *     surprising result
 */
public record ExchangeResult(
    List<ProcessingRequest> requestsToProcessor,
    List<ProcessingResponse> responsesFromProcessor,
    Optional<UpstreamRequest> upstreamRequest,
    ClientResponse clientResponse,
    Optional<LocalReply> localReply,
    Map<String, Struct> dynamicMetadata,
    List<RouteCacheClear> routeCacheClears,
    Map<String, Long> stats,
    List<String> notes) {

  public ExchangeResult {
    requestsToProcessor = List.copyOf(requireNonNull(requestsToProcessor, "requestsToProcessor"));
    responsesFromProcessor =
        List.copyOf(requireNonNull(responsesFromProcessor, "responsesFromProcessor"));
    requireNonNull(upstreamRequest, "upstreamRequest");
    requireNonNull(clientResponse, "clientResponse");
    requireNonNull(localReply, "localReply");
    dynamicMetadata = Map.copyOf(requireNonNull(dynamicMetadata, "dynamicMetadata"));
    routeCacheClears = List.copyOf(requireNonNull(routeCacheClears, "routeCacheClears"));
    stats = Map.copyOf(requireNonNull(stats, "stats"));
    notes = List.copyOf(requireNonNull(notes, "notes"));
  }

  /** The phase of each message Envoy sent, in order — the shortest way to assert message order. */
  public List<ProcessingRequest.RequestCase> phasesSent() {
    return requestsToProcessor.stream().map(ProcessingRequest::getRequestCase).toList();
  }

  /** The messages Envoy sent for one phase, in order. */
  public List<ProcessingRequest> sent(ProcessingRequest.RequestCase phase) {
    requireNonNull(phase, "phase");
    return requestsToProcessor.stream().filter(r -> r.getRequestCase() == phase).toList();
  }

  /** The upstream request; fails with the reason when nothing reached upstream. */
  public UpstreamRequest upstream() {
    return upstreamRequest.orElseThrow(() ->
        new AssertionError("expected the request to reach upstream, but Envoy answered locally: "
            + localReply.map(Object::toString).orElse("(no local reply)") + "; notes: " + notes));
  }

  /** An ext_proc counter, zero when never incremented. */
  public long stat(String name) {
    return stats.getOrDefault(requireNonNull(name, "name"), 0L);
  }

  /** True when Envoy cleared the route cache before the request headers reached the router. */
  public boolean routeCacheClearedBeforeRouting() {
    return routeCacheClears.stream().anyMatch(RouteCacheClear::beforeRouting);
  }
}
