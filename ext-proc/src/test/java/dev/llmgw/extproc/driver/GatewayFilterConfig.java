package dev.llmgw.extproc.driver;

import com.google.protobuf.util.Durations;
import dev.llmgw.extproc.server.ServedBy;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;

/**
 * The ext_proc filter configuration the control plane pushes to Envoy (control-plane's
 * {@code HttpFilterFactory.extProc(1 s)}), for driving ext-proc as the gateway's Envoy does:
 * headers only, bodies on request through {@code mode_override}, fail closed, dynamic metadata
 * accepted in the {@code llmgw} namespace, and the provider that served each response asked for. ext-proc cannot depend on control-plane, so this copy
 * is kept by hand; it-tests checks the two stay equal.
 */
public final class GatewayFilterConfig {

  public static final ExternalProcessor EXT_PROC = ExternalProcessor.newBuilder()
      .setGrpcService(GrpcService.newBuilder()
          .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("llmgw_ext_proc"))
          .setTimeout(Durations.fromSeconds(2)))
      .setFailureModeAllow(false)
      .setMessageTimeout(Durations.fromSeconds(1))
      .setAllowModeOverride(true)
      .setProcessingMode(ProcessingMode.newBuilder()
          .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
          .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
          .setRequestBodyMode(ProcessingMode.BodySendMode.NONE)
          .setResponseBodyMode(ProcessingMode.BodySendMode.NONE)
          .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
          .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
      .setMetadataOptions(MetadataOptions.newBuilder()
          .setReceivingNamespaces(
              MetadataOptions.MetadataNamespaces.newBuilder().addUntyped("llmgw")))
      .addResponseAttributes(ServedBy.ATTRIBUTE)
      .build();

  private GatewayFilterConfig() {}
}
