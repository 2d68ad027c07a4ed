package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With {@code --xds-token-file}, every service on the xDS port but health needs the bearer token. */
class XdsAuthenticationTest {

  private static final String TOKEN = "k3M9qV2xR7tW1yZ5bN8cF4hJ6mP0sL2d";

  @TempDir
  Path dir;

  private ControlPlane start(String... extra) throws Exception {
    Path tokenFile = dir.resolve("xds-token");
    Files.writeString(tokenFile, TOKEN + "\n");
    String[] args = new String[] {
      "--xds-port=0",
      "--admin-port=0",
      "--bind-host=127.0.0.1",
      "--ext-proc=127.0.0.1:9002",
      "--store=memory",
      "--admin-token=test-admin-token-0123456789",
      "--xds-token-file=" + tokenFile
    };
    String[] all = java.util.stream.Stream.concat(
            java.util.Arrays.stream(args), java.util.Arrays.stream(extra))
        .toArray(String[]::new);
    return ControlPlane.start(
        ControlPlaneConfig.fromArgs(all, Map.of()),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
  }

  private static ManagedChannel channel(ControlPlane cp, String authorization) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort()).usePlaintext();
    if (authorization != null) {
      Metadata headers = new Metadata();
      headers.put(XdsAuthentication.AUTHORIZATION, authorization);
      b.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return b.build();
  }

  private static SpendBatch batch() {
    return SpendBatch.newBuilder()
        .setReporterId("test")
        .addRecords(SpendRecord.newBuilder()
            .setId("r-1")
            .setAtEpochMillis(1_764_000_000_000L)
            .setModel("gpt-4o")
            .setCostUsd("0.001"))
        .build();
  }

  @Test
  void withTheTokenEnvoyGetsItsConfigurationAndExtProcItsFeedAndLedger() throws Exception {
    try (ControlPlane cp = start()) {
      ManagedChannel channel = channel(cp, "Bearer " + TOKEN);
      try (AdsTestClient ads = new AdsTestClient(
          channel, Node.newBuilder().setId("e").setCluster("llmgw").build())) {
        ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
        DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
        assertThat(cds.getResourcesCount()).isPositive();

        assertThat(SpendServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .record(batch())
                .getAccepted())
            .isEqualTo(1);
        assertThat(PolicyServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("x").build())
                .next()
                .getVersion())
            .isNotEmpty();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void withoutTheTokenOrWithAWrongOneEveryServiceButHealthRefuses() throws Exception {
    try (ControlPlane cp = start()) {
      for (String authorization : new String[] {
        null, "Bearer wrong-token-of-some-length-here", TOKEN, "Bearer " + TOKEN + "x"
      }) {
        ManagedChannel channel = channel(cp, authorization);
        try {
          try (AdsTestClient ads = new AdsTestClient(
              channel, Node.newBuilder().setId("e").setCluster("llmgw").build())) {
            ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
            assertThatThrownBy(() -> ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5)))
                .as("ADS with %s", authorization)
                .hasRootCauseInstanceOf(StatusRuntimeException.class)
                .rootCause()
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode())
                    .isEqualTo(Status.Code.UNAUTHENTICATED));
          }
          assertThatThrownBy(() -> SpendServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .record(batch()))
              .as("spend with %s", authorization)
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
          assertThatThrownBy(() -> PolicyServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("x").build())
                  .next())
              .as("policy feed with %s", authorization)
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
          assertThat(HealthGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .check(HealthCheckRequest.getDefaultInstance())
                  .getStatus())
              .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
    }
  }

  @Test
  void aMissingMessageTellsWhatIsExpected() throws Exception {
    try (ControlPlane cp = start()) {
      ManagedChannel channel = channel(cp, null);
      try {
        assertThatThrownBy(() -> SpendServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .record(batch()))
            .hasMessageContaining(
                "UNAUTHENTICATED: the xDS port needs 'authorization: Bearer <token>' (the control plane's "
                    + "--xds-token-file)");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aShortOrMissingTokenFileStopsTheStartWithTheReason() throws Exception {
    Path shortToken = dir.resolve("short");
    Files.writeString(shortToken, "secret\n");
    assertThatThrownBy(() -> XdsAuthentication.fromFile(shortToken))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("xds-token-file " + shortToken
            + ": a token of 6 characters (expected: at least 22 printable ASCII "
            + "characters without spaces, e.g. `openssl rand -base64 32`)");
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> XdsAuthentication.fromFile(missing))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageStartingWith("xds-token-file: cannot read " + missing);
  }
}
