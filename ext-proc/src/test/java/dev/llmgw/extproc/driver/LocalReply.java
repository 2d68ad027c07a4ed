package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;

/**
 * A response Envoy generated itself instead of forwarding the upstream's: either the processor's
 * {@code immediate_response}, or Envoy's own error reply (ext_proc failure, timeout, body over the
 * buffer limit).
 *
 * @param details the response code details Envoy records ({@code %RESPONSE_CODE_DETAILS%}), with
 *     whitespace replaced by {@code _} as {@code sendImmediateResponse} does
 * @param grpcStatus the {@code grpc_status} the processor asked for, if any (the driver does not turn
 *     the reply into a gRPC trailers-only response)
 */
public record LocalReply(
    Origin origin,
    int status,
    Headers headers,
    ByteString body,
    String details,
    OptionalInt grpcStatus) {

  /** Who asked for the local reply. */
  public enum Origin {
    /** The processor sent {@code immediate_response}. */
    PROCESSOR,
    /** Envoy's ext_proc filter failed the request (stream error, timeout, rejected mutation, spurious message). */
    EXT_PROC_ERROR,
    /** Envoy's filter manager: body over the buffer limit. */
    BUFFER_LIMIT
  }

  public LocalReply {
    requireNonNull(origin, "origin");
    requireNonNull(headers, "headers");
    requireNonNull(body, "body");
    requireNonNull(details, "details");
    requireNonNull(grpcStatus, "grpcStatus");
  }

  public String bodyUtf8() {
    return body.toString(StandardCharsets.UTF_8);
  }
}
