package dev.llmgw.controlplane.xds;

import dev.llmgw.controlplane.model.Endpoint;
import io.envoyproxy.envoy.config.core.v3.Address;
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

  static Address socketAddress(Endpoint e) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(e.host()).setPortValue(e.port()))
        .build();
  }
}
