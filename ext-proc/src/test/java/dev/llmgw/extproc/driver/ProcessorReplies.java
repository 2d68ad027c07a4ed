package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import java.nio.charset.StandardCharsets;

/** Short builders for the replies tests and fake processors send; header values go in {@code raw_value}. */
public final class ProcessorReplies {

  private ProcessorReplies() {}

  /** A CONTINUE reply with no changes, for the phase {@code request} carries. */
  public static ProcessingResponse continueFor(ProcessingRequest request) {
    return withCommon(request, CommonResponse.getDefaultInstance());
  }

  /** A reply for the phase {@code request} carries, with {@code common} (trailers get its header mutation). */
  public static ProcessingResponse withCommon(ProcessingRequest request, CommonResponse common) {
    requireNonNull(request, "request");
    requireNonNull(common, "common");
    ProcessingResponse.Builder b = ProcessingResponse.newBuilder();
    HeadersResponse headers = HeadersResponse.newBuilder().setResponse(common).build();
    BodyResponse body = BodyResponse.newBuilder().setResponse(common).build();
    TrailersResponse trailers = common.hasHeaderMutation()
        ? TrailersResponse.newBuilder()
            .setHeaderMutation(common.getHeaderMutation())
            .build()
        : TrailersResponse.getDefaultInstance();
    return switch (request.getRequestCase()) {
      case REQUEST_HEADERS -> b.setRequestHeaders(headers).build();
      case RESPONSE_HEADERS -> b.setResponseHeaders(headers).build();
      case REQUEST_BODY -> b.setRequestBody(body).build();
      case RESPONSE_BODY -> b.setResponseBody(body).build();
      case REQUEST_TRAILERS -> b.setRequestTrailers(trailers).build();
      case RESPONSE_TRAILERS -> b.setResponseTrailers(trailers).build();
      case REQUEST_NOT_SET ->
        throw new IllegalArgumentException("request has no phase set: " + request);
    };
  }

  public static ProcessingResponse requestHeaders(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setRequestHeaders(HeadersResponse.newBuilder().setResponse(common))
        .build();
  }

  public static ProcessingResponse responseHeaders(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setResponseHeaders(HeadersResponse.newBuilder().setResponse(common))
        .build();
  }

  public static ProcessingResponse requestBody(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setRequestBody(BodyResponse.newBuilder().setResponse(common))
        .build();
  }

  public static ProcessingResponse responseBody(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setResponseBody(BodyResponse.newBuilder().setResponse(common))
        .build();
  }

  public static ProcessingResponse requestTrailers(HeaderMutation mutation) {
    return ProcessingResponse.newBuilder()
        .setRequestTrailers(TrailersResponse.newBuilder().setHeaderMutation(mutation))
        .build();
  }

  public static ProcessingResponse responseTrailers(HeaderMutation mutation) {
    return ProcessingResponse.newBuilder()
        .setResponseTrailers(TrailersResponse.newBuilder().setHeaderMutation(mutation))
        .build();
  }

  /** A FULL_DUPLEX_STREAMED request body reply carrying {@code body} on. */
  public static ProcessingResponse streamedRequestBody(ByteString body, boolean endOfStream) {
    return requestBody(
        CommonResponse.newBuilder().setBodyMutation(streamed(body, endOfStream)).build());
  }

  /** A FULL_DUPLEX_STREAMED response body reply carrying {@code body} on. */
  public static ProcessingResponse streamedResponseBody(ByteString body, boolean endOfStream) {
    return responseBody(
        CommonResponse.newBuilder().setBodyMutation(streamed(body, endOfStream)).build());
  }

  private static BodyMutation streamed(ByteString body, boolean endOfStream) {
    return BodyMutation.newBuilder()
        .setStreamedResponse(
            StreamedBodyResponse.newBuilder().setBody(body).setEndOfStream(endOfStream))
        .build();
  }

  /** An immediate response with a text body and details. */
  public static ProcessingResponse immediate(int status, String body, String details) {
    return ProcessingResponse.newBuilder()
        .setImmediateResponse(ImmediateResponse.newBuilder()
            .setStatus(HttpStatus.newBuilder().setCodeValue(status))
            .setBody(ByteString.copyFromUtf8(body))
            .setDetails(details))
        .build();
  }

  /** Overwrites (or adds) a header: the deprecated {@code append} unset means overwrite in ext_proc. */
  public static HeaderValueOption setHeader(String name, String value) {
    return HeaderValueOption.newBuilder().setHeader(rawHeader(name, value)).build();
  }

  /** Adds one more value: {@code append: true}, the only append flag Envoy 1.34's ext_proc reads. */
  public static HeaderValueOption appendHeader(String name, String value) {
    return HeaderValueOption.newBuilder()
        .setHeader(rawHeader(name, value))
        .setAppend(BoolValue.of(true))
        .build();
  }

  public static HeaderValue rawHeader(String name, String value) {
    return HeaderValue.newBuilder()
        .setKey(name)
        .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8))
        .build();
  }

  public static HeaderMutation headerMutation(HeaderValueOption... sets) {
    HeaderMutation.Builder b = HeaderMutation.newBuilder();
    for (HeaderValueOption set : sets) {
      b.addSetHeaders(set);
    }
    return b.build();
  }

  public static HeaderMutation removing(String... names) {
    HeaderMutation.Builder b = HeaderMutation.newBuilder();
    for (String name : names) {
      b.addRemoveHeaders(name);
    }
    return b.build();
  }

  public static BodyMutation replaceBody(String body) {
    return BodyMutation.newBuilder().setBody(ByteString.copyFromUtf8(body)).build();
  }

  public static BodyMutation clearBody() {
    return BodyMutation.newBuilder().setClearBody(true).build();
  }

  /** Convenience for a CONTINUE common response with a header mutation. */
  public static CommonResponse mutating(HeaderMutation mutation) {
    return CommonResponse.newBuilder().setHeaderMutation(mutation).build();
  }
}
