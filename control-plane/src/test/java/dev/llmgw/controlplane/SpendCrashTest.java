package dev.llmgw.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the control plane while three senders stream spend batches into it: after a restart
 * the ledger holds every acknowledged record, and once every batch ever sent has been sent again
 * (as ext-proc's spool does), it holds each record exactly once.
 */
class SpendCrashTest {

  private static final Pattern PORTS = Pattern.compile("xDS \\(ADS\\) on port (\\d+), REST on port (\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String COST = "0.000123000000";
  private static final int BATCH = 20;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dataDir;

  private record Ports(int xds, int rest) {}

  @Test
  void acknowledgedSpendSurvivesKillDashNineAndResentBatchesCountOnce() throws Exception {
    List<SpendBatch> sent = new ArrayList<>();
    long acked = 0;
    AtomicInteger nextBatch = new AtomicInteger();
    for (int round = 0; round < 2; round++) {
      Process cp = startControlPlane();
      ExecutorService senders = Executors.newFixedThreadPool(3);
      ManagedChannel channel = null;
      try {
        Ports ports = ports(cp);
        assertThat(requests(ports.rest())).as("round %d: every acknowledged record after the restart", round)
            .isGreaterThanOrEqualTo(acked);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", ports.xds()).usePlaintext().build();
        var stub = SpendServiceGrpc.newBlockingStub(channel);
        ConcurrentLinkedQueue<SpendBatch> sentThisRound = new ConcurrentLinkedQueue<>();
        AtomicInteger ackedThisRound = new AtomicInteger();
        int killAfter = 30 + round * 17;
        for (int s = 0; s < 3; s++) {
          senders.submit(() -> {
            while (!Thread.currentThread().isInterrupted()) {
              SpendBatch batch = batch(nextBatch.getAndIncrement());
              sentThisRound.add(batch);
              try {
                stub.withDeadlineAfter(10, TimeUnit.SECONDS).record(batch);
              } catch (RuntimeException e) {
                return; // the control plane died under the call
              }
              ackedThisRound.addAndGet(batch.getRecordsCount());
            }
          });
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
            .until(() -> ackedThisRound.get() >= killAfter * BATCH);
        cp.destroyForcibly();
        assertThat(cp.waitFor(10, TimeUnit.SECONDS)).isTrue();
        senders.shutdownNow();
        assertThat(senders.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        acked += ackedThisRound.get();
        sent.addAll(sentThisRound);
      } finally {
        senders.shutdownNow();
        if (channel != null) {
          channel.shutdownNow();
        }
        cp.destroyForcibly();
      }
    }

    Process cp = startControlPlane();
    ManagedChannel channel = null;
    try {
      Ports ports = ports(cp);
      long before = requests(ports.rest());
      assertThat(before).isGreaterThanOrEqualTo(acked).isLessThanOrEqualTo((long) sent.size() * BATCH);
      channel = NettyChannelBuilder.forAddress("127.0.0.1", ports.xds()).usePlaintext().build();
      var stub = SpendServiceGrpc.newBlockingStub(channel);
      for (SpendBatch batch : sent) {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).record(batch);
      }
      JsonNode total = spend(ports.rest());
      assertThat(total.get("total_requests").asLong()).isEqualTo((long) sent.size() * BATCH);
      assertThat(new BigDecimal(total.get("total_cost_usd").asText()))
          .isEqualByComparingTo(new BigDecimal(COST).multiply(BigDecimal.valueOf((long) sent.size() * BATCH)));
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      cp.destroyForcibly();
      cp.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static SpendBatch batch(int n) {
    SpendBatch.Builder b = SpendBatch.newBuilder().setReporterId("crash-test");
    long now = System.currentTimeMillis();
    for (int i = 0; i < BATCH; i++) {
      b.addRecords(SpendRecord.newBuilder().setId("b" + n + "-r" + i).setAtEpochMillis(now).setTenant("t" + (n % 3))
          .setApiKeyId("k").setModel("m").setInputTokens(i).setOutputTokens(1).setCostUsd(COST)
          .setPriceVersion("crash").build());
    }
    return b.build();
  }

  private Process startControlPlane() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
        ControlPlaneMain.class.getName(), "--xds-port=0", "--admin-port=0", "--bind-host=127.0.0.1",
        "--ext-proc=127.0.0.1:9002", "--data-dir=" + dataDir, "--admin-token=crash"))
        .redirectErrorStream(true)
        .start();
  }

  /** Reads the child's log until it names its ports; keeps draining it afterwards. */
  private static Ports ports(Process cp) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(cp.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Ports> ports = CompletableFuture.supplyAsync(() -> {
      try {
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
          seen.append(line).append('\n');
          Matcher m = PORTS.matcher(line);
          if (m.find()) {
            Thread drain = new Thread(() -> {
              try {
                while (out.readLine() != null) {
                  // keep the pipe from filling up
                }
              } catch (java.io.IOException ignored) {
                // process gone
              }
            });
            drain.setDaemon(true);
            drain.start();
            return new Ports(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
          }
        }
        throw new IllegalStateException("control plane exited before listening:\n" + seen);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    });
    return ports.get(60, TimeUnit.SECONDS);
  }

  private long requests(int restPort) throws Exception {
    return spend(restPort).get("total_requests").asLong();
  }

  private JsonNode spend(int restPort) throws Exception {
    // Around midnight UTC a record may land on either side of it.
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/v1/spend?group_by="
        + "&from=" + today.minusDays(1) + "&to=" + today.plusDays(1)))
        .header("Authorization", "Bearer crash").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
