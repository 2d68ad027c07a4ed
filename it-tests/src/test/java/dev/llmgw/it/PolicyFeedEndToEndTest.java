package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.ModelTarget;
import dev.llmgw.extproc.policy.PolicyFeedClient;
import dev.llmgw.extproc.policy.PolicyStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;

/** A model alias written over REST reaches a real ext-proc policy through the control plane's feed. */
class PolicyFeedEndToEndTest {

  @Test
  void restChangeToAModelAliasIsAppliedByExtProcWithoutARestart() throws Exception {
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
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (ControlPlane cp = ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck())) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort())
          .usePlaintext()
          .build();
      PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
      try (PolicyFeedClient client = new PolicyFeedClient(
          channel, store, new ExtProcMetrics(new SimpleMeterRegistry()), scheduler, "it")) {
        client.start();
        await()
            .atMost(Duration.ofSeconds(5))
            .until(() -> !client.appliedVersion().isEmpty());
        assertThat(store.current().models()).isEmpty();

        HttpResponse<String> put = HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + cp.adminPort() + "/v1/models/fast"))
                    .PUT(HttpRequest.BodyPublishers.ofString(
                        "{\"route\":\"anthropic\",\"model\":\"claude-3-5-haiku-latest\"}"))
                    .header("Authorization", "Bearer test-admin-token-0123456789")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

        await()
            .atMost(Duration.ofSeconds(1))
            .until(() -> store.current().resolve(null, "fast").isPresent());
        assertThat(store.current().resolve(null, "fast"))
            .contains(new ModelTarget("anthropic", "claude-3-5-haiku-latest"));
        assertThat(store.current().unknownModel()).isEqualTo(GatewayPolicy.UnknownModel.REJECT);
      } finally {
        channel.shutdownNow();
      }
    } finally {
      scheduler.shutdownNow();
    }
  }
}
