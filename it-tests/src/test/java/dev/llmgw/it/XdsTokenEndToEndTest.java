package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.ControlPlaneChannel;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyFeedClient;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.spend.SpendReporter;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import dev.llmgw.proto.spend.v1.SpendRecord;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ext-proc's {@code --control-plane-token-file} against the control plane's {@code
 * --ext-proc-token-file}: with that token the policy feed and the spend ledger work; with another,
 * Envoy's included, the port refuses.
 */
class XdsTokenEndToEndTest {

  @TempDir
  Path dir;

  @Test
  void extProcWithTheControlPlanesTokenGetsItsPolicyAndReportsSpend() throws Exception {
    Path token = Files.writeString(dir.resolve("ext-proc-token"), "Zm9vYmFyYmF6cXV4cXV1eGNvcmdl\n");
    Path wrong = Files.writeString(dir.resolve("wrong-token"), "bm90IHRoZSB0b2tlbiBhdCBhbGw=\n");
    Path envoys = Files.writeString(dir.resolve("xds-token"), "ZW52b3lzIG93biB4ZHMgdG9rZW4=\n");
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--store=memory",
          "--admin-token=test-admin-token-0123456789",
          "--xds-token-file=" + envoys,
          "--ext-proc-token-file=" + token
        },
        Map.of());
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (ControlPlane cp = ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck())) {
      String target = "127.0.0.1:" + cp.xdsPort();
      ManagedChannel channel = ControlPlaneChannel.open(target, token, null);
      ManagedChannel impostor = ControlPlaneChannel.open(target, wrong, null);
      ManagedChannel envoy = ControlPlaneChannel.open(target, envoys, null);
      PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
      try (PolicyFeedClient feed = new PolicyFeedClient(
              channel, store, new ExtProcMetrics(new SimpleMeterRegistry()), scheduler, "it");
          SpendReporter spend = new SpendReporter(
              channel, dir.resolve("spool"), new SimpleMeterRegistry(), Clock.systemUTC())) {
        feed.start();
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> !feed.appliedVersion().isEmpty());

        spend.record(SpendRecord.newBuilder()
            .setId("it-token-1")
            .setAtEpochMillis(System.currentTimeMillis())
            .setTenant("acme")
            .setModel("gpt-4o")
            .setCostUsd("0.001000")
            .build());
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> spend.spooled() == 0 && requests(cp) == 1);

        assertThatThrownBy(() -> PolicyServiceGrpc.newBlockingStub(impostor)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(
                    WatchPolicyRequest.newBuilder().setNodeId("impostor").build())
                .next())
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> PolicyServiceGrpc.newBlockingStub(envoy)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("envoy").build())
                .next())
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      } finally {
        channel.shutdownNow();
        impostor.shutdownNow();
        envoy.shutdownNow();
      }
    } finally {
      scheduler.shutdownNow();
    }
  }

  @Test
  void anEmptyTokenFileIsRefusedWithTheReason() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertThatThrownBy(() -> ControlPlaneChannel.open("127.0.0.1:1", empty, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("control-plane-token-file " + empty
            + ": is empty (expected: the token in the control plane's --ext-proc-token-file)");
  }

  private static long requests(ControlPlane cp) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + cp.adminPort() + "/v1/spend?group_by=tenant"))
                .header("Authorization", "Bearer test-admin-token-0123456789")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(r.body())
        .get("total_requests")
        .asLong();
  }
}
