package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the listener clients call: HTTP connection manager, ext_proc (fail-closed, and the
 * fail-open instance routes may switch to), router, JSON access log, and Envoy's own errors in the
 * caller's API shape.
 */
public final class ListenerFactory {

  /**
   * Keys of ext-proc's dynamic metadata that attribute an exchange and its cost, among them two of
   * an exchange's three names: the API shape the client called ({@code api}) and the route the
   * policy chose ({@code route}). The third, the provider that served it, the access log takes from
   * Envoy itself ({@code provider} in {@link #ACCESS_LOG_FIELDS}).
   */
  static final List<String> COST_TAGS = List.of(
      "api",
      "route",
      "tenant",
      "application",
      "user",
      "api_key_id",
      "requested_model",
      "model",
      "served_model",
      "prompt_tokens",
      "completion_tokens",
      "cost_usd",
      "cost_estimated",
      "price_version");

  static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
  static final String STDOUT_ACCESS_LOG = "envoy.access_loggers.stdout";

  /**
   * Fields of each access-log line. {@code llmgw} carries the tags ext-proc writes as dynamic
   * metadata (tenant, key, model, tokens, cost) so spend can be attributed from logs alone.
   */
  static final Map<String, String> ACCESS_LOG_FIELDS = accessLogFields();

  /**
   * Envoy's buffer per connection, which bounds the request body ext_proc's BUFFERED mode can hold
   * (a larger one gets Envoy's 413). ext-proc accepts bodies up to 10 MiB ({@code
   * GatewayPolicy.MAX_REQUEST_BODY_BYTES}); one more MiB here lets a body a little over that reach
   * ext-proc, whose 413 is in the caller's API shape, and leaves room for retries of the largest
   * allowed body. Envoy's default (1 MiB) refused bodies well below ext-proc's limit.
   */
  static final int REQUEST_BUFFER_LIMIT_BYTES = 11 * 1024 * 1024;

  private ListenerFactory() {}

  public static Listener ingress(int port, Duration extProcMessageTimeout) {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(XdsNames.HCM_STAT_PREFIX)
        .setCodecType(HttpConnectionManager.CodecType.AUTO)
        .setRds(Rds.newBuilder()
            .setConfigSource(ClusterFactory.adsConfigSource())
            .setRouteConfigName(XdsNames.ROUTE_CONFIG))
        .addHttpFilters(HttpFilterFactory.extProc(extProcMessageTimeout))
        .addHttpFilters(HttpFilterFactory.extProcFailOpen(extProcMessageTimeout))
        .addHttpFilters(HttpFilterFactory.router())
        .setLocalReplyConfig(LocalReplyFactory.apiShaped())
        .addAccessLog(accessLog())
        .build();
    return Listener.newBuilder()
        .setName(XdsNames.LISTENER)
        .setPerConnectionBufferLimitBytes(UInt32Value.of(REQUEST_BUFFER_LIMIT_BYTES))
        .setAddress(Address.newBuilder()
            .setSocketAddress(SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(port)))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder().setName(HCM_FILTER).setTypedConfig(Any.pack(hcm))))
        .build();
  }

  static AccessLog accessLog() {
    Struct.Builder json = Struct.newBuilder();
    ACCESS_LOG_FIELDS.forEach(
        (k, v) -> json.putFields(k, Value.newBuilder().setStringValue(v).build()));
    StdoutAccessLog stdout = StdoutAccessLog.newBuilder()
        .setLogFormat(SubstitutionFormatString.newBuilder().setJsonFormat(json))
        .build();
    return AccessLog.newBuilder()
        .setName(STDOUT_ACCESS_LOG)
        .setTypedConfig(Any.pack(stdout))
        .build();
  }

  private static Map<String, String> accessLogFields() {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("start_time", "%START_TIME%");
    f.put("request_id", "%REQ(X-REQUEST-ID)%");
    f.put("method", "%REQ(:METHOD)%");
    f.put("path", "%REQ(:PATH)%");
    f.put("status", "%RESPONSE_CODE%");
    f.put("response_flags", "%RESPONSE_FLAGS%");
    f.put("duration_ms", "%DURATION%");
    f.put("upstream_cluster", "%UPSTREAM_CLUSTER%");
    f.put("upstream_host", "%UPSTREAM_HOST%");
    // The provider whose host served the request (the last attempt's): on a failover route
    // upstream_cluster names the aggregate cluster, not the provider behind it.
    f.put(
        "provider",
        "%UPSTREAM_METADATA(" + XdsNames.METADATA_NAMESPACE + ":" + XdsNames.PROVIDER_METADATA_KEY
            + ")%");
    f.put("bytes_received", "%BYTES_RECEIVED%");
    f.put("bytes_sent", "%BYTES_SENT%");
    // Attribution and cost, as top-level fields so log pipelines need no nested parsing; the whole
    // namespace follows for everything else ext-proc writes (docs/cost.md lists the keys).
    for (String key : COST_TAGS) {
      f.put(key, "%DYNAMIC_METADATA(" + XdsNames.METADATA_NAMESPACE + ":" + key + ")%");
    }
    f.put(XdsNames.METADATA_NAMESPACE, "%DYNAMIC_METADATA(" + XdsNames.METADATA_NAMESPACE + ")%");
    return Map.copyOf(f);
  }
}
