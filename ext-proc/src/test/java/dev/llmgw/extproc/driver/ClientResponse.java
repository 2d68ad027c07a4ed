package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The response as the client saw it: status and headers after every mutation, the body in the
 * chunks it was released in, trailers, and whether Envoy reset the stream instead of finishing it
 * (what happens when a local reply or an error comes after the response headers were already sent).
 */
public record ClientResponse(
    int status,
    Headers headers,
    List<ReleasedChunk> chunks,
    Optional<Headers> trailers,
    boolean reset) {

  public ClientResponse {
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
