package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.extproc.server.ExtProcServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path through a real Envoy: Envoy takes its config over ADS from the control plane,
 * streams the request through ext-proc and reaches the provider the route names.
 */
@RequiresEnvoy
class GatewayThroughEnvoyTest {

  @TempDir Path work;

  @Test
  void chatRequestFlowsThroughExtProcToTheProviderOverAdsConfig() throws Exception {
    int listenerPort = FreePorts.next();
    try (MockProvider provider = new MockProvider();
        ExtProcServer extProc = ExtProcServer.start(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), Duration.ofSeconds(1))) {
      ControlPlaneConfig config = ControlPlaneConfig.fromArgs(new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--listener-port=" + listenerPort,
          "--ext-proc=127.0.0.1:" + extProc.port(),
          "--providers=mock=http://127.0.0.1:" + provider.port(),
          "--default-provider=mock",
          "--store=memory",
          "--admin-token=it-token"}, Map.of());
      try (ControlPlane cp = ControlPlane.start(config,
              NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), new EnvoyContractCheck());
          EnvoyProcess envoy = EnvoyProcess.start(EnvoyRuntime.detect().orElseThrow(), cp.xdsPort(), work)) {
        HttpRequest chat = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listenerPort + "/v1/chat/completions"))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}"))
            .build();
        HttpResponse<String> response = await("listener from LDS answers").atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> HttpClient.newHttpClient().send(chat, HttpResponse.BodyHandlers.ofString()), r -> r.statusCode() == 200);

        assertThat(response.body()).contains("\"content\":\"pong\"");
        assertThat(provider.received).anySatisfy(r -> {
          assertThat(r.path()).isEqualTo("/v1/chat/completions");
          assertThat(r.body()).contains("\"content\":\"ping\"");
        });
        String stats = envoy.admin("/stats?filter=ext_proc").body();
        assertThat(stats).as(envoy.logText()).containsPattern("ext_proc\\.streams_started: [1-9]");
        assertThat(EnvoyProcess.get("http://127.0.0.1:" + envoy.prometheusPort + "/metrics").body())
            .contains("envoy_cluster_upstream_rq");
      }
    }
  }
}
