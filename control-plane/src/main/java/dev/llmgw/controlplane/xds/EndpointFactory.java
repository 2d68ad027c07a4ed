package dev.llmgw.controlplane.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.List;

/** Builds ClusterLoadAssignments, served over EDS or inlined in DNS clusters. */
public final class EndpointFactory {

  private EndpointFactory() {}

  /** All endpoints in one locality at priority 0. */
  public static ClusterLoadAssignment loadAssignment(String clusterName, List<Endpoint> endpoints) {
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
    for (Endpoint e : endpoints) {
      locality.addLbEndpoints(LbEndpoint.newBuilder()
          .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
              .setAddress(socketAddress(e))));
    }
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(clusterName)
        .addEndpoints(locality)
        .build();
  }

  /**
   * A provider cluster's one endpoint, tagged with the provider's name as host metadata ({@code
   * llmgw.provider}): whichever cluster a request went through, Envoy knows the host that served it,
   * and so the provider ({@link XdsNames#SERVED_BY_ATTRIBUTE}, the access log's {@code provider}).
   */
  public static ClusterLoadAssignment provider(Provider provider) {
    Metadata metadata = Metadata.newBuilder()
        .putFilterMetadata(
            XdsNames.METADATA_NAMESPACE,
            Struct.newBuilder()
                .putFields(
                    XdsNames.PROVIDER_METADATA_KEY,
                    Value.newBuilder().setStringValue(provider.name()).build())
                .build())
        .build();
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(XdsNames.providerCluster(provider.name()))
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(socketAddress(provider.address())))
                .setMetadata(metadata)))
        .build();
  }

  static Address socketAddress(Endpoint e) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(e.host()).setPortValue(e.port()))
        .build();
  }
}
