package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * What reached the upstream (the router, then the provider): headers after every mutation Envoy
 * applied, the body as released chunk by chunk, trailers, and whether the route cache was cleared
 * before the headers reached the router — the only time clearing it changes the route.
 *
 * @param complete false when Envoy started forwarding the request but then answered the client with a
 *     local reply, so the upstream stream was reset; the {@link Upstream} is only called for complete
 *     requests
 */
public record UpstreamRequest(
    Headers headers,
    List<ReleasedChunk> chunks,
    Optional<Headers> trailers,
    boolean routeCacheCleared,
    boolean complete) {

  public UpstreamRequest {
    requireNonNull(headers, "headers");
    requireNonNull(trailers, "trailers");
    chunks = List.copyOf(requireNonNull(chunks, "chunks"));
  }

  public ByteString body() {
    return ReleasedChunk.concat(chunks);
  }

  public String bodyUtf8() {
    return body().toString(StandardCharsets.UTF_8);
  }
}
