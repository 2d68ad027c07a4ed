package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.spend.SpendQuery;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.extproc.spend.SpendMetrics;
import dev.llmgw.extproc.spend.SpendReporter;
import dev.llmgw.proto.spend.v1.SpendRecord;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ext-proc's reporter into a real control plane's file ledger, out through REST, while the control
 * plane stops and starts again on the same port and data directory: every record counted once.
 */
class SpendLedgerEndToEndTest {

  private static final String TOKEN = "it-admin-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dataDir;

  @TempDir
  Path spoolDir;

  private ControlPlane start(int xdsPort) {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-port=" + xdsPort,
          "--admin-port=0",
          "--bind-host=127.0.0.1",
          "--ext-proc=127.0.0.1:9002",
          "--data-dir=" + dataDir,
          "--admin-token=" + TOKEN,
          "--shutdown-grace-seconds=1"
        },
        Map.of());
    return ControlPlane.start(
        config,
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", xdsPort)),
        new EnvoyContractCheck());
  }

  private long requests(ControlPlane cp) throws Exception {
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + cp.adminPort() + "/v1/spend?group_by=tenant"))
            .header("Authorization", "Bearer " + TOKEN)
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    return body.get("total_requests").asLong();
  }

  private static SpendRecord record() {
    return SpendRecord.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setAtEpochMillis(System.currentTimeMillis())
        .setTenant("acme")
        .setApiKeyId("fp-1")
        .setModel("gpt-4o")
        .setProvider("openai")
        .setRoute("openai")
        .setInputTokens(100)
        .setOutputTokens(10)
        .setCostUsd("0.000350000000")
        .setPriceVersion("it")
        .build();
  }

  private SpendReporter reporter(ManagedChannel channel, SimpleMeterRegistry registry) {
    return new SpendReporter(
        channel,
        spoolDir,
        registry,
        Clock.systemUTC(),
        new SpendReporter.Settings(
            1000,
            100,
            Duration.ofSeconds(2),
            Duration.ofMillis(50),
            Duration.ofMillis(500),
            16L * 1024 * 1024,
            64 * 1024,
            "it-ext-proc"));
  }

  @Test
  void spendReachesTheLedgerOnceThroughControlPlaneAndReporterRestarts() throws Exception {
    int xdsPort = FreePorts.next();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", xdsPort).usePlaintext().build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try {
      ControlPlane first = start(xdsPort);
      SpendReporter before = reporter(channel, registry);
      for (int i = 0; i < 100; i++) {
        before.record(record());
      }
      await().atMost(WAIT).until(() -> requests(first) == 100);

      first.close();
      for (int i = 0; i < 50; i++) {
        before.record(record());
      }
      await().atMost(WAIT).until(() -> before.spooled() == 50);
      before.close(); // ext-proc restarts while the control plane is away

      SpendReporter after = reporter(channel, registry);
      assertThat(after.spooled()).isEqualTo(50);
      for (int i = 0; i < 25; i++) {
        after.record(record());
      }
      try (ControlPlane second = start(xdsPort)) {
        channel.resetConnectBackoff();
        await().atMost(WAIT).until(() -> after.spooled() == 0);
        after.close();

        assertThat(requests(second)).isEqualTo(175);
        assertThat(registry.find(SpendMetrics.DROPPED).counters()).allMatch(c -> c.count() == 0);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(second
                .spendLedger()
                .query(new SpendQuery(
                    today.minusDays(1),
                    today,
                    Map.of(SpendQuery.Dimension.TENANT, "acme"),
                    List.of()))
                .get(0)
                .totals()
                .costUsd())
            .isEqualByComparingTo("0.06125");
      }
    } finally {
      channel.shutdownNow();
    }
  }
}
