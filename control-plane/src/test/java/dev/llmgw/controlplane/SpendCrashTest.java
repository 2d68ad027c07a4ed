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
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the control plane while three senders stream spend batches into it: after a restart
 * the ledger holds every acknowledged record, and once every batch ever sent has been sent again
 * (as ext-proc's spool does), it holds each record exactly once.
 */
class SpendCrashTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String COST = "0.000123000000";
  private static final int BATCH = 20;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  Path dataDir;

  @Test
  void acknowledgedSpendSurvivesKillDashNineAndResentBatchesCountOnce() throws Exception {
    List<SpendBatch> sent = new ArrayList<>();
    long acked = 0;
    AtomicInteger nextBatch = new AtomicInteger();
    for (int round = 0; round < 2; round++) {
      ControlPlaneProcess cp = ControlPlaneProcess.start(dataDir, "crash-test-admin-token-01");
      ExecutorService senders = Executors.newFixedThreadPool(3);
      ManagedChannel channel = null;
      try {
        assertThat(requests(cp.restPort))
            .as("round %d: every acknowledged record after the restart", round)
            .isGreaterThanOrEqualTo(acked);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort)
            .usePlaintext()
            .build();
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
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(5))
            .until(() -> ackedThisRound.get() >= killAfter * BATCH);
        cp.kill();
        assertThat(cp.process.isAlive()).isFalse();
        senders.shutdownNow();
        assertThat(senders.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        acked += ackedThisRound.get();
        sent.addAll(sentThisRound);
      } finally {
        senders.shutdownNow();
        if (channel != null) {
          channel.shutdownNow();
        }
        cp.kill();
      }
    }

    ControlPlaneProcess cp = ControlPlaneProcess.start(dataDir, "crash-test-admin-token-01");
    ManagedChannel channel = null;
    try {
      long before = requests(cp.restPort);
      assertThat(before)
          .isGreaterThanOrEqualTo(acked)
          .isLessThanOrEqualTo((long) sent.size() * BATCH);
      channel =
          NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort).usePlaintext().build();
      var stub = SpendServiceGrpc.newBlockingStub(channel);
      for (SpendBatch batch : sent) {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).record(batch);
      }
      JsonNode total = spend(cp.restPort);
      assertThat(total.get("total_requests").asLong()).isEqualTo((long) sent.size() * BATCH);
      assertThat(new BigDecimal(total.get("total_cost_usd").asText()))
          .isEqualByComparingTo(
              new BigDecimal(COST).multiply(BigDecimal.valueOf((long) sent.size() * BATCH)));
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      cp.kill();
    }
  }

  private static SpendBatch batch(int n) {
    SpendBatch.Builder b = SpendBatch.newBuilder().setReporterId("crash-test");
    long now = System.currentTimeMillis();
    for (int i = 0; i < BATCH; i++) {
      b.addRecords(SpendRecord.newBuilder()
          .setId("b" + n + "-r" + i)
          .setAtEpochMillis(now)
          .setTenant("t" + (n % 3))
          .setApiKeyId("k")
          .setModel("m")
          .setInputTokens(i)
          .setOutputTokens(1)
          .setCostUsd(COST)
          .setPriceVersion("crash")
          .build());
    }
    return b.build();
  }

  private long requests(int restPort) throws Exception {
    return spend(restPort).get("total_requests").asLong();
  }

  private JsonNode spend(int restPort) throws Exception {
    // Around midnight UTC a record may land on either side of it.
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/v1/spend?group_by="
                + "&from=" + today.minusDays(1) + "&to=" + today.plusDays(1)))
            .header("Authorization", "Bearer crash-test-admin-token-01")
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
