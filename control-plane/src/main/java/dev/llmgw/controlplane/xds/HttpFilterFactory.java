package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcOverrides;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.time.Duration;
import java.util.Map;

/**
 * Builds the HTTP filters of the listener's filter chain, in the order Envoy runs them.
 *
 * <p>ext_proc runs as two instances that differ only in {@code failure_mode_allow}, because
 * Envoy's per-route ext_proc overrides (API 1.34) cannot change it: the fail-closed one runs by
 * default, and a fail-open route swaps it for the fail-open one ({@link #failOpenPerRoute()}).
 */
public final class HttpFilterFactory {

  static final String EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
  /**
   * The fail-open instance. Not the extension's own name, so Envoy's fallback from a filter's
   * name to its extension name never hands it per-route config meant for the fail-closed one.
   */
  static final String EXT_PROC_FAIL_OPEN_FILTER = "llmgw.ext_proc.fail_open";

  static final String ROUTER_FILTER = "envoy.filters.http.router";

  private HttpFilterFactory() {}

  /**
   * The ext_proc filter. Headers of both directions go to ext-proc; bodies are off by default and
   * ext-proc asks for them per stream through {@code mode_override}, so non-LLM traffic never
   * pays for body streaming. Failing closed is the default: a request is not forwarded unprocessed.
   * ext-proc may write dynamic metadata only into the gateway's own namespace. With each response's
   * headers ext-proc learns which provider served it ({@link XdsNames#SERVED_BY_ATTRIBUTE}).
   */
  public static HttpFilter extProc(Duration messageTimeout) {
    return HttpFilter.newBuilder()
        .setName(EXT_PROC_FILTER)
        .setTypedConfig(Any.pack(extProcConfig(messageTimeout, false)))
        .build();
  }

  /**
   * The same ext_proc filter with {@code failure_mode_allow}: when ext-proc cannot be reached or its
   * stream breaks, the request goes on unprocessed. Disabled unless a route enables it.
   */
  public static HttpFilter extProcFailOpen(Duration messageTimeout) {
    return HttpFilter.newBuilder()
        .setName(EXT_PROC_FAIL_OPEN_FILTER)
        .setTypedConfig(Any.pack(extProcConfig(messageTimeout, true)))
        .setDisabled(true)
        .build();
  }

  /**
   * {@code typed_per_filter_config} of a route that fails open: the fail-closed instance is taken
   * out of its filter chain and the fail-open one put in. Envoy builds the chain from the route it
   * matched before ext-proc ran, so this decides requests that arrive with that route's header.
   */
  public static Map<String, Any> failOpenPerRoute() {
    // Sorted, so the serialized route (and the snapshot's fingerprint) is the same in every JVM.
    return java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(Map.of(
        EXT_PROC_FILTER, Any.pack(FilterConfig.newBuilder().setDisabled(true).build()),
        EXT_PROC_FAIL_OPEN_FILTER,
            Any.pack(ExtProcPerRoute.newBuilder()
                .setOverrides(ExtProcOverrides.getDefaultInstance())
                .build()))));
  }

  private static ExternalProcessor extProcConfig(Duration messageTimeout, boolean failOpen) {
    return ExternalProcessor.newBuilder()
        .setGrpcService(GrpcService.newBuilder()
            .setEnvoyGrpc(
                GrpcService.EnvoyGrpc.newBuilder().setClusterName(XdsNames.EXT_PROC_CLUSTER))
            .setTimeout(ClusterFactory.duration(messageTimeout.multipliedBy(2))))
        .setFailureModeAllow(failOpen)
        .setMessageTimeout(ClusterFactory.duration(messageTimeout))
        .setAllowModeOverride(true)
        .setProcessingMode(ProcessingMode.newBuilder()
            .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
            .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
            .setRequestBodyMode(ProcessingMode.BodySendMode.NONE)
            .setResponseBodyMode(ProcessingMode.BodySendMode.NONE)
            .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
            .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
        .setMetadataOptions(MetadataOptions.newBuilder()
            .setReceivingNamespaces(MetadataOptions.MetadataNamespaces.newBuilder()
                .addUntyped(XdsNames.METADATA_NAMESPACE)))
        .addResponseAttributes(XdsNames.SERVED_BY_ATTRIBUTE)
        .build();
  }

  /** The router, always last. */
  public static HttpFilter router() {
    return HttpFilter.newBuilder()
        .setName(ROUTER_FILTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }
}
