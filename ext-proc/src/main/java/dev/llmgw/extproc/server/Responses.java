package dev.llmgw.extproc.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;

/** Builders for the ext_proc answers ext-proc sends. */
final class Responses {

  private Responses() {}

  /**
   * Processing mode for a request ext-proc does not handle: nothing more is sent for it.
   * mode_override replaces the whole mode, so every field is set.
   */
  static final ProcessingMode PASS_THROUGH = ProcessingMode.newBuilder()
      .setRequestHeaderMode(HeaderSendMode.SEND)
      .setRequestBodyMode(BodySendMode.NONE)
      .setRequestTrailerMode(HeaderSendMode.SKIP)
      .setResponseHeaderMode(HeaderSendMode.SKIP)
      .setResponseBodyMode(BodySendMode.NONE)
      .setResponseTrailerMode(HeaderSendMode.SKIP)
      .build();

  /** Processing mode for an LLM request: the whole request body, then the response headers. */
  static final ProcessingMode LLM_REQUEST = PASS_THROUGH.toBuilder()
      .setRequestBodyMode(BodySendMode.BUFFERED)
      .setResponseHeaderMode(HeaderSendMode.SEND)
      .build();

  /** Processing mode once response headers say the body should be watched chunk by chunk. */
  static final ProcessingMode STREAMED_RESPONSE =
      LLM_REQUEST.toBuilder().setResponseBodyMode(BodySendMode.STREAMED).build();

  static HeaderValueOption setHeader(String name, String value) {
    return HeaderValueOption.newBuilder()
        .setHeader(
            HeaderValue.newBuilder().setKey(name).setRawValue(ByteString.copyFromUtf8(value)))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  /** An answer the gateway gives itself, in the error shape of the API called. */
  static ProcessingResponse immediate(ApiError error, LlmApi.Family shape) {
    return immediate(error, shape, -1);
  }

  /** An error answer with a {@code retry-after} header when {@code retryAfterSeconds >= 0}. */
  static ProcessingResponse immediate(ApiError error, LlmApi.Family shape, long retryAfterSeconds) {
    byte[] body = error.body(shape);
    HeaderMutation.Builder headers = HeaderMutation.newBuilder()
        .addSetHeaders(setHeader("content-type", "application/json"))
        .addSetHeaders(setHeader(
            "x-llmgw-error",
            error.code() == null
                ? error.kind().name().toLowerCase(java.util.Locale.ROOT)
                : error.code()));
    if (retryAfterSeconds >= 0) {
      headers.addSetHeaders(setHeader("retry-after", Long.toString(retryAfterSeconds)));
    }
    return ProcessingResponse.newBuilder()
        .setImmediateResponse(ImmediateResponse.newBuilder()
            .setStatus(HttpStatus.newBuilder().setCode(statusCode(error.status())))
            .setHeaders(headers)
            .setBody(ByteString.copyFrom(body))
            .setDetails("llmgw_" + (error.code() == null ? "error" : error.code())))
        .build();
  }

  /** A complete answer a stage gave in place of the provider's; nothing is forwarded. */
  static ProcessingResponse answer(Answer answer, Struct metadata) {
    HeaderMutation.Builder headers =
        HeaderMutation.newBuilder().addSetHeaders(setHeader("content-type", answer.contentType()));
    answer.headers().forEach((name, value) -> headers.addSetHeaders(setHeader(name, value)));
    return ProcessingResponse.newBuilder()
        .setImmediateResponse(ImmediateResponse.newBuilder()
            .setStatus(HttpStatus.newBuilder().setCode(statusCode(answer.status())))
            .setHeaders(headers)
            .setBody(ByteString.copyFrom(answer.body()))
            .setDetails("llmgw_answered"))
        .setDynamicMetadata(metadata)
        .build();
  }

  private static StatusCode statusCode(int status) {
    StatusCode code = StatusCode.forNumber(status);
    if (code == null) {
      throw new IllegalArgumentException(
          "status: " + status + " (expected: a status Envoy's StatusCode enum names)");
    }
    return code;
  }
}
