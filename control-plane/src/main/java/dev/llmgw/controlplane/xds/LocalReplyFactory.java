package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.AndFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter;
import io.envoyproxy.envoy.config.accesslog.v3.HeaderFilter;
import io.envoyproxy.envoy.config.accesslog.v3.StatusCodeFilter;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.RuntimeUInt32;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/**
 * Renders Envoy's own error replies (ext-proc unreachable or its stream broken, no healthy
 * upstream, connect failure, timeout, overflow) in the error shape of the API the caller used, as
 * ext-proc renders its own: Anthropic's for {@code /v1/messages}, OpenAI's for every other path.
 *
 * <p>ext-proc's immediate responses are local replies too, already in the right shape; they carry
 * {@link #ERROR_HEADER}, and a CEL filter on the response headers leaves them alone. None of the
 * plain access-log filters can tell the two apart: Envoy sets no response flag when ext_proc fails,
 * and the header filter only sees request headers.
 */
public final class LocalReplyFactory {

  /** Header on every error the gateway answers itself; ext-proc's carry the error code. */
  static final String ERROR_HEADER = "x-llmgw-error";
  /** The value of {@link #ERROR_HEADER} on Envoy's own errors. */
  static final String GATEWAY_ERROR = "gateway_error";

  static final String ANTHROPIC_PATH_PREFIX = "/v1/messages";
  static final String CEL_FILTER = "envoy.access_loggers.extension_filters.cel";
  /** Not one of ext-proc's answers (those are in the API's shape already). */
  static final String NOT_EXT_PROC_REPLY = "!('" + ERROR_HEADER + "' in response.headers)";
  /** What happened, in Envoy's words: its details ({@code no_healthy_upstream}) and reply text. */
  static final String MESSAGE =
      "The gateway could not complete the request (%RESPONSE_CODE% %RESPONSE_CODE_DETAILS%) %LOCAL_REPLY_BODY%";

  private LocalReplyFactory() {}

  /** Mappers in the order Envoy tries them; the first whose filter matches rewrites the reply. */
  public static LocalReplyConfig apiShaped() {
    AccessLogFilter anthropic = AccessLogFilter.newBuilder()
        .setHeaderFilter(HeaderFilter.newBuilder()
            .setHeader(HeaderMatcher.newBuilder()
                .setName(":path")
                .setStringMatch(StringMatcher.newBuilder().setPrefix(ANTHROPIC_PATH_PREFIX))))
        .build();
    return LocalReplyConfig.newBuilder()
        .addMappers(mapper(List.of(anthropic, serverError()), anthropicBody("api_error")))
        .addMappers(mapper(List.of(anthropic), anthropicBody("invalid_request_error")))
        .addMappers(mapper(List.of(serverError()), openAiBody("server_error")))
        .addMappers(mapper(List.of(), openAiBody("invalid_request_error")))
        .build();
  }

  private static ResponseMapper mapper(List<AccessLogFilter> conditions, Struct body) {
    AndFilter.Builder all = AndFilter.newBuilder().addFilters(notExtProcReply());
    conditions.forEach(all::addFilters);
    // An and_filter needs two filters; with one condition the filter stands alone.
    AccessLogFilter filter = conditions.isEmpty()
        ? notExtProcReply()
        : AccessLogFilter.newBuilder().setAndFilter(all).build();
    return ResponseMapper.newBuilder()
        .setFilter(filter)
        .setBodyFormatOverride(SubstitutionFormatString.newBuilder()
            .setJsonFormat(body)
            .setContentType("application/json"))
        .addHeadersToAdd(HeaderValueOption.newBuilder()
            .setHeader(HeaderValue.newBuilder().setKey(ERROR_HEADER).setValue(GATEWAY_ERROR))
            .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD))
        .build();
  }

  private static AccessLogFilter notExtProcReply() {
    return AccessLogFilter.newBuilder()
        .setExtensionFilter(ExtensionFilter.newBuilder()
            .setName(CEL_FILTER)
            .setTypedConfig(Any.pack(
                ExpressionFilter.newBuilder().setExpression(NOT_EXT_PROC_REPLY).build())))
        .build();
  }

  private static AccessLogFilter serverError() {
    return AccessLogFilter.newBuilder()
        .setStatusCodeFilter(StatusCodeFilter.newBuilder()
            .setComparison(ComparisonFilter.newBuilder()
                .setOp(ComparisonFilter.Op.GE)
                .setValue(RuntimeUInt32.newBuilder()
                    .setDefaultValue(500)
                    .setRuntimeKey("llmgw.local_reply.server_error_status"))))
        .build();
  }

  /** {@code {"error":{"message":…,"type":…,"code":"gateway_error"}}}, as OpenAI answers. */
  static Struct openAiBody(String type) {
    return Struct.newBuilder()
        .putFields(
            "error",
            struct(Struct.newBuilder()
                .putFields("message", text(MESSAGE))
                .putFields("type", text(type))
                .putFields("code", text(GATEWAY_ERROR))))
        .build();
  }

  /** {@code {"type":"error","error":{"type":…,"message":…}}}, as Anthropic answers. */
  static Struct anthropicBody(String type) {
    return Struct.newBuilder()
        .putFields("type", text("error"))
        .putFields(
            "error",
            struct(Struct.newBuilder()
                .putFields("type", text(type))
                .putFields("message", text(MESSAGE))))
        .build();
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Value struct(Struct.Builder s) {
    return Value.newBuilder().setStructValue(s).build();
  }
}
