package dev.llmgw.extproc.driver;

import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/** Small helpers shared by the driver's own tests. */
final class DriverTestSupport {

  private DriverTestSupport() {}

  static ExternalProcessor config(ProcessingMode.Builder mode) {
    return ExternalProcessor.newBuilder().setProcessingMode(mode).build();
  }

  static ProcessingMode.Builder mode() {
    return ProcessingMode.newBuilder();
  }

  /** The value Envoy sent for {@code name}, read from {@code raw_value}. */
  static Optional<String> header(HeaderMap headers, String name) {
    for (HeaderValue h : headers.getHeadersList()) {
      if (h.getKey().equals(name)) {
        return Optional.of(h.getRawValue().toString(StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  /** The body chunk of a body message, as text. */
  static String bodyOf(ProcessingRequest request) {
    return (request.hasRequestBody()
            ? request.getRequestBody().getBody()
            : request.getResponseBody().getBody())
        .toStringUtf8();
  }

  static boolean endOfStreamOf(ProcessingRequest request) {
    return request.hasRequestBody()
        ? request.getRequestBody().getEndOfStream()
        : request.getResponseBody().getEndOfStream();
  }

  /** A processor script step: body chunks come back upper-cased, every other phase continues. */
  static ScriptedProcessor upperCasingBodies() {
    return ScriptedProcessor.of((request, replies) -> {
      if (request.hasRequestBody() || request.hasResponseBody()) {
        CommonResponse upper = CommonResponse.newBuilder()
            .setBodyMutation(BodyMutation.newBuilder()
                .setBody(com.google.protobuf.ByteString.copyFromUtf8(
                    bodyOf(request).toUpperCase(Locale.ROOT))))
            .build();
        replies.send(ProcessorReplies.withCommon(request, upper));
      } else {
        replies.send(ProcessorReplies.continueFor(request));
      }
    });
  }
}
