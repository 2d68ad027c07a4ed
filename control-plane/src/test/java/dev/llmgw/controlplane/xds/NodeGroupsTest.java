package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
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

/** Node groups: Envoys of a fleet get the providers and routes restricted to it; the others do not. */
class NodeGroupsTest {

  @TempDir
  Path dataDir;

  @Test
  void fleetsGetTheirOwnResourcesAndOtherEnvoysDoNot() throws Exception {
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
      try (AdsTestClient main = new AdsTestClient(
              channel, Node.newBuilder().setId("m").setCluster("llmgw").build());
          AdsTestClient edge = new AdsTestClient(
              channel, Node.newBuilder().setId("e").setCluster("edge").build())) {
        DiscoveryResponse mainCds = subscribe(main);
        DiscoveryResponse edgeCds = subscribe(edge);
        assertThat(names(edgeCds))
            .as("a fleet nobody names gets the default configuration")
            .isEqualTo(names(mainCds));

        assertThat(put(
                cp,
                "/v1/providers/mistral",
                "{\"base_url\":\"https://api.mistral.ai\",\"fleets\":[\"edge\"]}"))
            .isEqualTo(201);
        DiscoveryResponse edgeWithMistral =
            nextUntil(edge, r -> names(r).contains("llmgw_provider_mistral"));
        assertThat(SnapshotPublisher.number(edgeWithMistral.getVersionInfo()))
            .isGreaterThan(SnapshotPublisher.number(edgeCds.getVersionInfo()));
        DiscoveryResponse mainAfter =
            main.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
        assertThat(names(mainAfter)).doesNotContain("llmgw_provider_mistral");
        main.ack(mainAfter, List.of());

        // A route for every fleet cannot use a provider only one fleet has.
        assertThat(put(cp, "/v1/routes/chat", "{\"targets\":[{\"provider\":\"mistral\"}]}"))
            .isEqualTo(400);
        assertThat(put(
                cp,
                "/v1/routes/chat",
                "{\"targets\":[{\"provider\":\"mistral\"}],\"fleets\":[\"edge\"]}"))
            .isEqualTo(201);
        nextUntil(edge, r -> names(r).contains("llmgw_provider_mistral"));
        assertThat(cp.publisher()
                .lastPublished()
                .orElseThrow()
                .byGroup()
                .get("edge")
                .routes()
                .resources()
                .get(XdsNames.ROUTE_CONFIG)
                .toString())
            .contains("route_chat");
        assertThat(cp.publisher()
                .lastSnapshot()
                .routes()
                .resources()
                .get(XdsNames.ROUTE_CONFIG)
                .toString())
            .doesNotContain("route_chat");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static DiscoveryResponse subscribe(AdsTestClient ads) throws Exception {
    ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
    DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
    ads.ack(cds, List.of());
    return cds;
  }

  /** Reads and ACKs cluster responses until one matches (an Envoy moving into its fleet's group gets two). */
  private static DiscoveryResponse nextUntil(
      AdsTestClient ads, java.util.function.Predicate<DiscoveryResponse> wanted) throws Exception {
    for (int i = 0; i < 3; i++) {
      DiscoveryResponse r = ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
      ads.ack(r, List.of());
      if (wanted.test(r)) {
        return r;
      }
    }
    throw new AssertionError("no matching cluster response");
  }

  private static List<String> names(DiscoveryResponse r) {
    List<String> names = new java.util.ArrayList<>();
    for (Any a : r.getResourcesList()) {
      try {
        names.add(a.unpack(Cluster.class).getName());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    }
    return names;
  }

  private static int put(ControlPlane cp, String path, String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.adminPort() + path))
                .PUT(HttpRequest.BodyPublishers.ofString(body))
                .header("Authorization", "Bearer test-admin-token-0123456789")
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }
}
