package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ADS protocol as Envoy speaks it, against the running control plane on a real port: the
 * client subscribes to every resource kind, ACKs with the version and nonce it was given, and
 * sees a new version after a change.
 */
class AdsProtocolTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Node NODE =
      Node.newBuilder().setId("ads-test").setCluster("llmgw").build();

  private ControlPlane controlPlane;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--store=memory",
          "--admin-token=test-admin-token-0123456789"
        },
        Map.of());
    controlPlane = ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
    channel = NettyChannelBuilder.forAddress("127.0.0.1", controlPlane.xdsPort())
        .usePlaintext()
        .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    controlPlane.close();
  }

  @Test
  void subscriberReceivesEveryResourceKindAndAcksWithVersionAndNonce() throws Exception {
    try (AdsTestClient ads = new AdsTestClient(channel, NODE)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
      DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      List<Cluster> clusters = unpack(cds, Cluster.class);
      assertThat(SnapshotPublisher.number(cds.getVersionInfo())).isPositive();
      assertThat(cds.getNonce()).isNotEmpty();
      assertThat(clusters)
          .extracting(Cluster::getName)
          .containsExactlyInAnyOrder(
              XdsNames.EXT_PROC_CLUSTER, "llmgw_provider_openai", "llmgw_provider_anthropic");
      ads.ack(cds, List.of());

      ads.request(Resources.V3.ENDPOINT_TYPE_URL, List.of(XdsNames.EXT_PROC_CLUSTER), "", "");
      DiscoveryResponse eds = ads.next(Resources.V3.ENDPOINT_TYPE_URL, WAIT);
      List<ClusterLoadAssignment> endpoints = unpack(eds, ClusterLoadAssignment.class);
      assertThat(endpoints).singleElement().satisfies(cla -> {
        assertThat(cla.getClusterName()).isEqualTo(XdsNames.EXT_PROC_CLUSTER);
        assertThat(cla.getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getPortValue())
            .isEqualTo(9002);
      });
      ads.ack(eds, List.of(XdsNames.EXT_PROC_CLUSTER));

      ads.request(Resources.V3.LISTENER_TYPE_URL, List.of(), "", "");
      DiscoveryResponse lds = ads.next(Resources.V3.LISTENER_TYPE_URL, WAIT);
      assertThat(unpack(lds, Listener.class))
          .extracting(Listener::getName)
          .containsExactly(XdsNames.LISTENER);
      ads.ack(lds, List.of());

      ads.request(Resources.V3.ROUTE_TYPE_URL, List.of(XdsNames.ROUTE_CONFIG), "", "");
      DiscoveryResponse rds = ads.next(Resources.V3.ROUTE_TYPE_URL, WAIT);
      assertThat(unpack(rds, RouteConfiguration.class))
          .extracting(RouteConfiguration::getName)
          .containsExactly(XdsNames.ROUTE_CONFIG);
      ads.ack(rds, List.of(XdsNames.ROUTE_CONFIG));

      assertThat(List.of(cds, eds, lds, rds))
          .extracting(DiscoveryResponse::getNonce)
          .doesNotHaveDuplicates();
    }
  }

  @Test
  void subscriberSeesNewVersionAfterChange() throws Exception {
    try (AdsTestClient ads = new AdsTestClient(channel, NODE)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
      DiscoveryResponse first = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      ads.ack(first, List.of());

      GatewaySpec current =
          controlPlane.publisher().lastPublished().orElseThrow().spec();
      List<Provider> providers = new ArrayList<>(current.providers());
      providers.add(Provider.fromUrl("mistral", "https://api.mistral.ai", Duration.ofSeconds(5)));
      String published = controlPlane
          .publisher()
          .publish(new GatewaySpec(
              current.listenerPort(),
              current.extProc(),
              current.extProcMessageTimeout(),
              providers,
              current.defaultProvider(),
              current.trustedCaFile()));

      DiscoveryResponse second = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      assertThat(second.getVersionInfo()).isEqualTo(published);
      assertThat(SnapshotPublisher.number(second.getVersionInfo()))
          .isEqualTo(SnapshotPublisher.number(first.getVersionInfo()) + 1);
      assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
      assertThat(unpack(second, Cluster.class))
          .extracting(Cluster::getName)
          .contains("llmgw_provider_mistral");
      ads.ack(second, List.of());
    }
  }

  @Test
  void nackKeepsTheStreamOpenAndLaterVersionsStillArrive() throws Exception {
    try (AdsTestClient ads = new AdsTestClient(channel, NODE)) {
      ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
      DiscoveryResponse first = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      ads.nack(first, List.of(), "", "simulated rejection");

      GatewaySpec current =
          controlPlane.publisher().lastPublished().orElseThrow().spec();
      controlPlane
          .publisher()
          .publish(new GatewaySpec(
              current.listenerPort(),
              current.extProc(),
              current.extProcMessageTimeout(),
              current.providers().subList(0, 1),
              current.providers().get(0).name(),
              current.trustedCaFile()));

      // java-control-plane answers a NACK by re-sending the version it holds (the client asked for
      // "" again); a resend of the rejected version may therefore come first. Version 2 must
      // follow.
      DiscoveryResponse second = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      int resends = 0;
      while (second.getVersionInfo().equals(first.getVersionInfo()) && resends++ < 3) {
        assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
        ads.nack(second, List.of(), "", "simulated rejection");
        second = ads.next(Resources.V3.CLUSTER_TYPE_URL, WAIT);
      }
      assertThat(SnapshotPublisher.number(second.getVersionInfo()))
          .isGreaterThan(SnapshotPublisher.number(first.getVersionInfo()));
      assertThat(unpack(second, Cluster.class))
          .extracting(Cluster::getName)
          .containsExactlyInAnyOrder(
              XdsNames.EXT_PROC_CLUSTER,
              XdsNames.providerCluster(current.providers().get(0).name()));
    }
  }

  private static <T extends com.google.protobuf.Message> List<T> unpack(
      DiscoveryResponse response, Class<T> type) throws InvalidProtocolBufferException {
    List<T> out = new ArrayList<>();
    for (Any any : response.getResourcesList()) {
      out.add(any.unpack(type));
    }
    return out;
  }
}
