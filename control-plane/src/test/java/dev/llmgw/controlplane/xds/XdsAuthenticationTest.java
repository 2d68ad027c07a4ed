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
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
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
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS port's two tokens: Envoy's ({@code --xds-token-file}) opens the discovery services, SDS
 * with the providers' credentials included; ext-proc's ({@code --ext-proc-token-file}) opens the
 * policy feed and the spend service. Neither opens the other's; health needs none.
 */
class XdsAuthenticationTest {

  private static final String ENVOY_TOKEN = "k3M9qV2xR7tW1yZ5bN8cF4hJ6mP0sL2d";
  private static final String EXT_PROC_TOKEN = "Zr8Lw2Qp5Tn1Vb7Xc4Hs9Jd3Kf6Mg0Ya";

  @TempDir
  Path dir;

  private ControlPlane start(String... tokenFlags) throws Exception {
    List<String> args = new ArrayList<>(List.of(
        "--xds-port=0",
        "--admin-port=0",
        "--bind-host=127.0.0.1",
        "--ext-proc=127.0.0.1:9002",
        "--store=memory",
        "--admin-token=test-admin-token-0123456789"));
    args.addAll(List.of(tokenFlags));
    return ControlPlane.start(
        ControlPlaneConfig.fromArgs(args.toArray(String[]::new), Map.of()),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
  }

  private ControlPlane startWithBothTokens() throws Exception {
    return start(
        "--xds-token-file=" + file("envoy-token", ENVOY_TOKEN),
        "--ext-proc-token-file=" + file("ext-proc-token", EXT_PROC_TOKEN));
  }

  private Path file(String name, String token) throws Exception {
    return Files.writeString(dir.resolve(name), token + "\n");
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
            .setTenant("someone-else")
            .setModel("gpt-4o")
            .setCostUsd("26843.00"))
        .build();
  }

  @Test
  void envoysTokenOpensTheDiscoveryServicesAndExtProcsTheFeedAndTheLedger() throws Exception {
    try (ControlPlane cp = startWithBothTokens()) {
      ManagedChannel envoy = channel(cp, "Bearer " + ENVOY_TOKEN);
      ManagedChannel extProc = channel(cp, "Bearer " + EXT_PROC_TOKEN);
      try (AdsTestClient ads = new AdsTestClient(envoy, node())) {
        ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
        DiscoveryResponse cds = ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5));
        assertThat(cds.getResourcesCount()).isPositive();

        assertThat(SpendServiceGrpc.newBlockingStub(extProc)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .record(batch())
                .getAccepted())
            .isEqualTo(1);
        assertThat(PolicyServiceGrpc.newBlockingStub(extProc)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("x").build())
                .next()
                .getVersion())
            .isNotEmpty();
      } finally {
        envoy.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        extProc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void extProcsTokenCannotFetchSecretsNorAnyOtherDiscoveryResource() throws Exception {
    try (ControlPlane cp = startWithBothTokens()) {
      ManagedChannel extProc = channel(cp, "Bearer " + EXT_PROC_TOKEN);
      try {
        assertThat(sdsError(extProc).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(sdsError(extProc).getDescription())
            .isEqualTo("ext-proc's token does not open "
                + "envoy.service.secret.v3.SecretDiscoveryService (it opens the policy feed and "
                + "the spend service only)");
        for (String type : List.of(
            Resources.V3.SECRET_TYPE_URL,
            Resources.V3.CLUSTER_TYPE_URL,
            Resources.V3.LISTENER_TYPE_URL)) {
          try (AdsTestClient ads = new AdsTestClient(extProc, node())) {
            ads.request(type, List.of(), "", "");
            assertThatThrownBy(() -> ads.next(type, Duration.ofSeconds(5)))
                .as("ADS for %s with ext-proc's token", type)
                .rootCause()
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode())
                    .isEqualTo(Status.Code.PERMISSION_DENIED));
          }
        }
      } finally {
        extProc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void envoysTokenCannotWatchThePolicyNorWriteSpend() throws Exception {
    try (ControlPlane cp = startWithBothTokens()) {
      ManagedChannel envoy = channel(cp, "Bearer " + ENVOY_TOKEN);
      try {
        assertThatThrownBy(() -> PolicyServiceGrpc.newBlockingStub(envoy)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("x").build())
                .next())
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> SpendServiceGrpc.newBlockingStub(envoy)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .record(batch()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo("Envoy's token does not open llmgw.spend.v1.SpendService (it opens "
                      + "the xDS discovery services only)");
            });
      } finally {
        envoy.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void withoutATokenOrWithAWrongOneEveryServiceButHealthRefuses() throws Exception {
    try (ControlPlane cp = startWithBothTokens()) {
      for (String authorization : new String[] {
        null,
        "Bearer wrong-token-of-some-length-here",
        ENVOY_TOKEN,
        "Bearer " + EXT_PROC_TOKEN + "x"
      }) {
        ManagedChannel channel = channel(cp, authorization);
        try {
          try (AdsTestClient ads = new AdsTestClient(channel, node())) {
            ads.request(Resources.V3.CLUSTER_TYPE_URL, List.of(), "", "");
            assertThatThrownBy(() -> ads.next(Resources.V3.CLUSTER_TYPE_URL, Duration.ofSeconds(5)))
                .as("ADS with %s", authorization)
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
  void aMissingTokenTellsWhichSettingHoldsIt() throws Exception {
    try (ControlPlane cp = startWithBothTokens()) {
      ManagedChannel channel = channel(cp, null);
      try {
        assertThatThrownBy(() -> SpendServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .record(batch()))
            .hasMessage("UNAUTHENTICATED: the xDS port needs 'authorization: Bearer <token>' (the "
                + "control plane's --ext-proc-token-file)");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void withEnvoysTokenAloneThePolicyFeedIsClosedToEveryone() throws Exception {
    try (ControlPlane cp = start("--xds-token-file=" + file("envoy-token", ENVOY_TOKEN))) {
      ManagedChannel envoy = channel(cp, "Bearer " + ENVOY_TOKEN);
      try {
        assertThatThrownBy(() -> PolicyServiceGrpc.newBlockingStub(envoy)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("x").build())
                .next())
            .hasMessage("PERMISSION_DENIED: ext-proc's services (the policy feed and the spend "
                + "service) are closed: the control plane runs without --ext-proc-token-file");
      } finally {
        envoy.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theSameTokenForBothCallersStopsTheStart() throws Exception {
    Path envoy = file("envoy-token", ENVOY_TOKEN);
    Path extProc = file("ext-proc-token", ENVOY_TOKEN);

    assertThatThrownBy(() -> XdsAuthentication.fromFiles(envoy, extProc))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("xds-token-file " + envoy + " and ext-proc-token-file " + extProc
            + " hold the same token (expected: different tokens, so ext-proc's cannot read the "
            + "providers' credentials Envoy's resources carry)");
  }

  @Test
  void aShortOrMissingTokenFileStopsTheStartWithTheReason() throws Exception {
    Path shortToken = file("short", "secret");
    assertThatThrownBy(() -> XdsAuthentication.fromFiles(shortToken, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("xds-token-file " + shortToken
            + ": a token of 6 characters (expected: at least 22 printable ASCII "
            + "characters without spaces, e.g. `openssl rand -base64 32`)");
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> XdsAuthentication.fromFiles(null, missing))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageStartingWith("ext-proc-token-file: cannot read " + missing);
  }

  private static Node node() {
    return Node.newBuilder().setId("e").setCluster("llmgw").build();
  }

  /** How a plain SDS stream asking for every secret ends. */
  private static Status sdsError(ManagedChannel channel) throws Exception {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<DiscoveryRequest> requests = SecretDiscoveryServiceGrpc.newStub(channel)
        .streamSecrets(new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse value) {
            ended.completeExceptionally(
                new AssertionError("SDS answered with " + value.getResourcesCount() + " secrets"));
          }

          @Override
          public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            ended.complete(Status.OK);
          }
        });
    requests.onNext(DiscoveryRequest.newBuilder()
        .setNode(node())
        .setTypeUrl(Resources.V3.SECRET_TYPE_URL)
        .build());
    return ended.get(5, TimeUnit.SECONDS);
  }
}
