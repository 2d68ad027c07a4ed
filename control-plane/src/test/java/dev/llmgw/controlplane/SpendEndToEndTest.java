package dev.llmgw.controlplane;

import static dev.llmgw.controlplane.spend.SpendFixtures.NOW;
import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.spend.SpendFixtures;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spend over the xDS port's gRPC into the ledger, out over REST, across a restart of the control plane. */
class SpendEndToEndTest {

  private static final String TOKEN = "e2e-admin-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dataDir;

  private ControlPlane start(String store) {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=0",
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--data-dir=" + dataDir,
          "--admin-token=" + TOKEN,
          "--store=" + store
        },
        Map.of());
    return ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck(),
        Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private static SpendBatch batch(String prefix, int n) {
    SpendBatch.Builder b = SpendBatch.newBuilder().setReporterId("ext-proc-e2e");
    for (int i = 0; i < n; i++) {
      b.addRecords(
          SpendFixtures.record(prefix + "-" + i, TODAY, "acme", "key-1", "gpt-4o", "0.125"));
    }
    return b.build();
  }

  private static SpendAck send(ControlPlane cp, SpendBatch batch) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort()).usePlaintext().build();
    try {
      return SpendServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .record(batch);
    } finally {
      channel.shutdownNow();
    }
  }

  private JsonNode spend(ControlPlane cp) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.adminPort() + "/v1/spend"))
            .header("Authorization", "Bearer " + TOKEN)
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void spendReportedOverGrpcIsQueriedOverRestAndSurvivesARestart() throws Exception {
    try (ControlPlane cp = start("file")) {
      assertThat(send(cp, batch("a", 8)).getAccepted()).isEqualTo(8);
      JsonNode body = spend(cp);
      assertThat(body.get("total_cost_usd").asText()).isEqualTo("1.000000");
      assertThat(body.get("rows")).singleElement().satisfies(r -> {
        assertThat(r.get("tenant").asText()).isEqualTo("acme");
        assertThat(r.get("requests").asLong()).isEqualTo(8);
      });
    }
    assertThat(Files.exists(dataDir.resolve("spend").resolve("journal"))).isTrue();

    try (ControlPlane cp = start("file")) {
      assertThat(spend(cp).get("total_cost_usd").asText()).isEqualTo("1.000000");
      SpendAck again = send(cp, batch("a", 10));
      assertThat(again.getAccepted()).isEqualTo(2);
      assertThat(again.getDuplicates()).isEqualTo(8);
      assertThat(spend(cp).get("total_requests").asLong()).isEqualTo(10);
    }
  }

  @Test
  void withTheMemoryStoreSpendIsKeptUntilTheControlPlaneStops() throws Exception {
    try (ControlPlane cp = start("memory")) {
      send(cp, batch("a", 2));
      assertThat(spend(cp).get("total_requests").asLong()).isEqualTo(2);
    }
    assertThat(Files.exists(dataDir.resolve("spend"))).isFalse();
    try (ControlPlane cp = start("memory")) {
      assertThat(spend(cp).get("total_requests").asLong()).isZero();
    }
  }
}
