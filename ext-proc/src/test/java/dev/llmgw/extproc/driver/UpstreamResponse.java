package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the simulated upstream answers: headers with {@code :status}, the body in the chunks it is
 * sent in (one {@code encodeData} call each — an SSE stream is one chunk per event or per network
 * read), and optional trailers.
 *
 * @param bodyWithHeaders true when the whole body (and trailers) reached Envoy together with the
 *     headers, before the processor answered the response headers — what a small answer written at
 *     once usually does (a JSON answer with {@code content-length}). Envoy then holds the body, and
 *     once the headers reply asks for it, sends it as one BUFFERED body message whatever the body mode,
 *     with the headers still held: a body mutation must then match {@code content-length} or the
 *     client gets a 500. False (the default): each chunk arrives after the previous phase was answered.
 * @param attributes what Envoy's CEL expressions evaluate to for this response, by expression: they
 *     depend on the upstream that answered (its cluster, its host's metadata), which only the test
 *     knows. The driver sends those the filter config lists in {@code response_attributes}; an
 *     expression without a value here is one Envoy could not evaluate, and is left out as Envoy does.
 */
public record UpstreamResponse(
    Headers headers,
    List<ByteString> chunks,
    Optional<Headers> trailers,
    boolean bodyWithHeaders,
    Map<String, String> attributes) {

  public UpstreamResponse {
    requireNonNull(headers, "headers");
    requireNonNull(trailers, "trailers");
    chunks = List.copyOf(requireNonNull(chunks, "chunks"));
    attributes = Map.copyOf(requireNonNull(attributes, "attributes"));
    String status = headers
        .get(":status")
        .orElseThrow(() -> new IllegalArgumentException(
            "response headers lack :status (expected: a numeric :status pseudo-header): "
                + headers));
    try {
      Integer.parseInt(status);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(":status: " + status + " (expected: a number)", e);
    }
  }

  public static Builder builder(int status) {
    return new Builder(status);
  }

  /** A 200 with {@code content-type} and the body in the given chunks. */
  public static UpstreamResponse ok(String contentType, String... chunks) {
    return builder(200).header("content-type", contentType).chunks(chunks).build();
  }

  /** Builds a response; pseudo-headers are kept in front. */
  public static final class Builder {
    private final Headers.Builder headers = Headers.builder();
    private final List<ByteString> chunks = new ArrayList<>();
    private Headers.Builder trailers;
    private boolean bodyWithHeaders;
    private final Map<String, String> attributes = new LinkedHashMap<>();

    private Builder(int status) {
      headers.add(":status", Integer.toString(status));
    }

    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    public Builder chunk(ByteString chunk) {
      chunks.add(requireNonNull(chunk, "chunk"));
      return this;
    }

    public Builder chunk(String utf8) {
      return chunk(ByteString.copyFrom(requireNonNull(utf8, "utf8"), StandardCharsets.UTF_8));
    }

    public Builder chunks(String... utf8) {
      for (String c : utf8) {
        chunk(c);
      }
      return this;
    }

    public Builder trailer(String name, String value) {
      if (trailers == null) {
        trailers = Headers.builder();
      }
      trailers.add(name, value);
      return this;
    }

    /** The whole response reaches Envoy at once, before the processor answers its headers. */
    public Builder bodyWithHeaders() {
      this.bodyWithHeaders = true;
      return this;
    }

    /** What Envoy's CEL gives {@code expression} for this response (a string value). */
    public Builder attribute(String expression, String value) {
      attributes.put(requireNonNull(expression, "expression"), requireNonNull(value, "value"));
      return this;
    }

    public UpstreamResponse build() {
      return new UpstreamResponse(
          headers.build(),
          chunks,
          Optional.ofNullable(trailers).map(Headers.Builder::build),
          bodyWithHeaders,
          attributes);
    }
  }
}
