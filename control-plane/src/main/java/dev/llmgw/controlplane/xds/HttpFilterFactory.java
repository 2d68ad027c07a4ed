package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.time.Duration;

/** Builds the HTTP filters of the listener's filter chain, in the order Envoy runs them. */
public final class HttpFilterFactory {

  static final String EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
  static final String ROUTER_FILTER = "envoy.filters.http.router";

  private HttpFilterFactory() {}

  /**
   * The ext_proc filter. Headers of both directions go to ext-proc; bodies are off by default and
   * ext-proc asks for them per stream through {@code mode_override}, so non-LLM traffic never
   * pays for body streaming. Failing closed is the default: a request is not forwarded unprocessed.
   * ext-proc may write dynamic metadata only into the gateway's own namespace.
   */
  public static HttpFilter extProc(Duration messageTimeout) {
    ExternalProcessor config = ExternalProcessor.newBuilder()
        .setGrpcService(GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(XdsNames.EXT_PROC_CLUSTER))
            .setTimeout(ClusterFactory.duration(messageTimeout.multipliedBy(2))))
        .setFailureModeAllow(false)
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
        .build();
    return HttpFilter.newBuilder().setName(EXT_PROC_FILTER).setTypedConfig(Any.pack(config)).build();
  }

  /** The router, always last. */
  public static HttpFilter router() {
    return HttpFilter.newBuilder().setName(ROUTER_FILTER).setTypedConfig(Any.pack(Router.getDefaultInstance())).build();
  }
}
