package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The HTTP request a client sends to Envoy, as the ext_proc filter sees it: headers (with the
 * {@code :method}, {@code :path}, {@code :authority}, {@code :scheme} pseudo-headers), the body in
 * the chunks it arrived in, optional trailers, and any dynamic metadata earlier filters already wrote
 * (what {@code metadata_options.forwarding_namespaces} can forward to the processor).
 *
 * <p>The driver sends the headers exactly as given: it does not add what Envoy's connection manager
 * would add ({@code x-request-id}, {@code x-forwarded-*}).
 */
public record DownstreamRequest(
    Headers headers,
    List<ByteString> chunks,
    Optional<Headers> trailers,
    Map<String, Struct> dynamicMetadata) {

  public DownstreamRequest {
    requireNonNull(headers, "headers");
    requireNonNull(trailers, "trailers");
    chunks = List.copyOf(requireNonNull(chunks, "chunks"));
    dynamicMetadata = Map.copyOf(requireNonNull(dynamicMetadata, "dynamicMetadata"));
    for (String pseudo : List.of(":method", ":path", ":authority")) {
      if (!headers.contains(pseudo)) {
        throw new IllegalArgumentException("request headers lack " + pseudo
            + " (expected: :method, :path and :authority, which Envoy requires"
            + " before any filter runs): " + headers);
      }
    }
  }

  /** The whole body, concatenated. */
  public ByteString body() {
    return ByteString.copyFrom(chunks);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A POST with the given path and one body chunk; {@code :authority} is {@code gateway.test}. */
  public static Builder post(String path, String body) {
    return builder().method("POST").path(path).chunk(body);
  }

  /** Builds a request; pseudo-headers default to {@code :scheme: https}, {@code :authority: gateway.test}. */
  public static final class Builder {
    private String method;
    private String path;
    private String authority = "gateway.test";
    private String scheme = "https";
    private final Headers.Builder headers = Headers.builder();
    private final List<ByteString> chunks = new ArrayList<>();
    private Headers.Builder trailers;
    private final Map<String, Struct> metadata = new LinkedHashMap<>();

    private Builder() {}

    public Builder method(String method) {
      this.method = requireNonNull(method, "method");
      return this;
    }

    public Builder path(String path) {
      this.path = requireNonNull(path, "path");
      return this;
    }

    public Builder authority(String authority) {
      this.authority = requireNonNull(authority, "authority");
      return this;
    }

    public Builder scheme(String scheme) {
      this.scheme = requireNonNull(scheme, "scheme");
      return this;
    }

    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    /** Appends one body chunk, as one {@code decodeData} call in Envoy. */
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

    /** Adds a trailer; a request with any trailer ends with a trailers frame instead of end-of-stream on data. */
    public Builder trailer(String name, String value) {
      if (trailers == null) {
        trailers = Headers.builder();
      }
      trailers.add(name, value);
      return this;
    }

    /** Dynamic metadata an earlier filter wrote under {@code namespace} before ext_proc ran. */
    public Builder dynamicMetadata(String namespace, Struct value) {
      metadata.put(requireNonNull(namespace, "namespace"), requireNonNull(value, "value"));
      return this;
    }

    public DownstreamRequest build() {
      Headers.Builder all = Headers.builder();
      if (method != null) {
        all.add(":method", method);
      }
      if (scheme != null) {
        all.add(":scheme", scheme);
      }
      if (authority != null) {
        all.add(":authority", authority);
      }
      if (path != null) {
        all.add(":path", path);
      }
      all.addAll(headers.build());
      return new DownstreamRequest(
          all.build(), chunks, Optional.ofNullable(trailers).map(Headers.Builder::build), metadata);
    }
  }
}
