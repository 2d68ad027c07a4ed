package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A REST change reaches a subscribed ADS client within one second, for each kind of change. */
class RestToAdsPropagationTest {

  private static final Duration ONE_SECOND = Duration.ofSeconds(1);

  @TempDir
  Path dataDir;

  @Test
  void eachKindOfRestChangeReachesAnAdsSubscriberWithinOneSecond() throws Exception {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--data-dir=" + dataDir,
          "--admin-token=test-admin-token-0123456789"
        },
        Map.of());
    try (ControlPlane cp = ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck())) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort())
          .usePlaintext()
          .build();
      try (AdsTestClient ads = new AdsTestClient(
          channel, Node.newBuilder().setId("p").setCluster("llmgw").build())) {
        ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
        DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
        ads.ack(cds, List.of());
        ads.request(Resources.V3.ROUTE_TYPE_URL, List.of(XdsNames.ROUTE_CONFIG), "", "");
        DiscoveryResponse rds = ads.next(Resources.V3.ROUTE_TYPE_URL, Duration.ofSeconds(5));
        ads.ack(rds, List.of(XdsNames.ROUTE_CONFIG));

        // A new provider: a new cluster.
        long start = System.nanoTime();
        put(cp, "/v1/providers/mistral", "{\"base_url\":\"https://api.mistral.ai\"}");
        Map<String, DiscoveryResponse> first =
            ads.nextOfEach(ONE_SECOND, Resources.V3.CLUSTER_TYPE_URL, Resources.V3.ROUTE_TYPE_URL);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(ONE_SECOND);
        DiscoveryResponse cds2 = first.get(Resources.V3.CLUSTER_TYPE_URL);
        assertThat(names(cds2)).contains("llmgw_provider_mistral");
        assertThat(SnapshotPublisher.number(cds2.getVersionInfo()))
            .isGreaterThan(SnapshotPublisher.number(cds.getVersionInfo()));
        ads.ack(cds2, List.of());
        // The route configuration gained the provider's implicit route too.
        DiscoveryResponse rds2 = first.get(Resources.V3.ROUTE_TYPE_URL);
        assertThat(rds2.getResources(0).unpack(RouteConfiguration.class).toString())
            .contains("provider_mistral");
        ads.ack(rds2, List.of(XdsNames.ROUTE_CONFIG));

        // A failover route: a new aggregate cluster and a new route.
        start = System.nanoTime();
        put(
            cp,
            "/v1/routes/chat",
            "{\"targets\":[{\"provider\":\"openai\",\"priority\":0},{\"provider\":\"mistral\",\"priority\":1}]}");
        Map<String, DiscoveryResponse> second =
            ads.nextOfEach(ONE_SECOND, Resources.V3.CLUSTER_TYPE_URL, Resources.V3.ROUTE_TYPE_URL);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(ONE_SECOND);
        DiscoveryResponse cds3 = second.get(Resources.V3.CLUSTER_TYPE_URL);
        assertThat(names(cds3)).contains("llmgw_failover_chat");
        DiscoveryResponse rds3 = second.get(Resources.V3.ROUTE_TYPE_URL);
        assertThat(rds3.getResources(0).unpack(RouteConfiguration.class).toString())
            .contains("route_chat");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static List<String> names(DiscoveryResponse r) throws Exception {
    List<String> names = new java.util.ArrayList<>();
    for (Any a : r.getResourcesList()) {
      names.add(a.unpack(Cluster.class).getName());
    }
    return names;
  }

  private static void put(ControlPlane cp, String path, String body) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.adminPort() + path))
                .PUT(HttpRequest.BodyPublishers.ofString(body))
                .header("Authorization", "Bearer test-admin-token-0123456789")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }
}
