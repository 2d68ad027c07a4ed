package dev.llmgw.controlplane.xds.validation;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;

/**
 * Rules Envoy enforces in C++ when it loads a config, beyond what its PGV annotations say, for the
 * parts of the API the gateway uses. Each one is a message Envoy would refuse, so a NACK.
 */
final class LoadTimeRules {

  private static final String ROUTER_TYPE = Router.getDescriptor().getFullName();

  /** Receives a violation at a field path relative to the checked message. */
  interface Sink {
    void violation(String field, String message);
  }

  private LoadTimeRules() {}

  static void check(Message message, Sink sink) {
    if (message instanceof ExternalProcessor extProc) {
      checkExtProc(extProc, sink);
    } else if (message instanceof HttpConnectionManager hcm) {
      checkTerminalFilter(hcm.getHttpFiltersList(), sink);
    }
  }

  /** Envoy: "One and only one of grpc_service or http_service must be set". */
  private static void checkExtProc(ExternalProcessor extProc, Sink sink) {
    if (extProc.hasGrpcService() == extProc.hasHttpService()) {
      sink.violation(
          extProc.hasGrpcService() ? "http_service" : "grpc_service",
          "exactly one of grpc_service or http_service must be set (Envoy refuses the ext_proc"
              + " filter otherwise)");
    }
  }

  /**
   * Envoy refuses an HTTP filter chain whose last filter is not terminal, or with a terminal filter
   * before the end. The router is the terminal filter the gateway uses; filters found through
   * config_discovery are not known until runtime and are not judged.
   */
  private static void checkTerminalFilter(List<HttpFilter> filters, Sink sink) {
    for (int i = 0; i < filters.size(); i++) {
      HttpFilter filter = filters.get(i);
      if (!filter.hasTypedConfig()) {
        continue;
      }
      boolean router =
          EnvoyTypes.typeName(filter.getTypedConfig().getTypeUrl()).equals(ROUTER_TYPE);
      boolean last = i == filters.size() - 1;
      if (router && !last) {
        sink.violation(
            "http_filters[" + i + "]",
            "the router filter '" + filter.getName() + "' is terminal and must be the last filter");
      } else if (!router && last) {
        sink.violation(
            "http_filters[" + i + "]",
            "the last filter '"
                + filter.getName()
                + "' is not terminal; the chain must end with the router filter");
      }
    }
  }
}
