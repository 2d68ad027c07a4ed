package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.spend.SpendFixtures.NOW;
import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC service over a file ledger, in process. */
class SpendServiceTest {

  @TempDir
  Path tmp;

  private final SpendFixtures.MutableClock clock = new SpendFixtures.MutableClock(NOW);
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private SpendServiceGrpc.SpendServiceBlockingStub serve(SpendLedger ledger) throws IOException {
    toClose.add(ledger);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(new SpendService(ledger))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).build();
    return SpendServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static SpendBatch batch(String prefix, int n) {
    SpendBatch.Builder b = SpendBatch.newBuilder().setReporterId("ext-proc-test");
    for (int i = 0; i < n; i++) {
      b.addRecords(
          SpendFixtures.record(prefix + "-" + i, TODAY, "acme", "key-1", "gpt-4o", "0.25"));
    }
    return b.build();
  }

  @Test
  void anAcknowledgedBatchIsAlreadyOnDisk() throws Exception {
    Path dir = tmp.resolve("spend");
    var stub = serve(FileSpendLedger.open(dir, clock));

    SpendAck ack = stub.record(batch("a", 4));

    assertThat(ack.getAccepted()).isEqualTo(4);
    // What a crash right after the ack would leave: the files as they are now, read by a new
    // ledger.
    Path image = tmp.resolve("image");
    Files.createDirectories(image);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.copy(f, image.resolve(f.getFileName()));
      }
    }
    try (FileSpendLedger fresh = FileSpendLedger.open(image, clock)) {
      assertThat(fresh.query(new SpendQuery(TODAY, TODAY, Map.of(), List.of())))
          .singleElement()
          .satisfies(r -> {
            assertThat(r.totals().requests()).isEqualTo(4);
            assertThat(r.totals().costUsd()).isEqualByComparingTo("1");
          });
    }
  }

  @Test
  void theAckWaitsForTheLedger() throws Exception {
    CountDownLatch inLedger = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    InMemorySpendLedger memory = new InMemorySpendLedger(clock);
    SpendLedger slow = new SpendLedger() {
      @Override
      public Recorded record(List<Spend> records, String source) {
        inLedger.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return memory.record(records, source);
      }

      @Override
      public List<SpendRow> query(SpendQuery query) {
        return memory.query(query);
      }

      @Override
      public int dedupWindowDays() {
        return memory.dedupWindowDays();
      }

      @Override
      public void close() {}
    };
    var stub = serve(slow);

    CompletableFuture<SpendAck> ack =
        CompletableFuture.supplyAsync(() -> stub.record(batch("a", 2)));
    assertThat(inLedger.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ack).as("no ack while the ledger has not returned").isNotDone();
    release.countDown();

    assertThat(ack.get(10, TimeUnit.SECONDS).getAccepted()).isEqualTo(2);
  }

  @Test
  void aBatchSentAgainIsAcknowledgedAsDuplicates() throws Exception {
    var stub = serve(new InMemorySpendLedger(clock));
    stub.record(batch("a", 3));

    SpendAck again = stub.record(batch("a", 5));

    assertThat(again.getAccepted()).isEqualTo(2);
    assertThat(again.getDuplicates()).isEqualTo(3);
  }

  @Test
  void anInvalidRecordRejectsTheWholeBatchNamingTheField() throws Exception {
    InMemorySpendLedger ledger = new InMemorySpendLedger(clock);
    var stub = serve(ledger);

    SpendBatch badCost = batch("a", 5).toBuilder()
        .setRecords(3, batch("a", 5).getRecords(3).toBuilder().setCostUsd("1e-3"))
        .build();
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> stub.record(badCost));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .startsWith("records[3].cost_usd: '1e-3' (expected: a non-negative plain decimal");

    SpendBatch noId = batch("b", 2).toBuilder()
        .setRecords(1, SpendRecord.newBuilder(batch("b", 2).getRecords(1)).setId(""))
        .build();
    e = catchThrowableOfType(StatusRuntimeException.class, () -> stub.record(noId));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .startsWith("records[1].id: '' (expected: 1..128 characters");

    assertThat(ledger.query(new SpendQuery(TODAY, TODAY, Map.of(), List.of())))
        .as("nothing stored")
        .isEmpty();
  }

  @Test
  void anOversizedBatchIsRefused() throws Exception {
    var stub = serve(new InMemorySpendLedger(clock));
    SpendBatch.Builder big = SpendBatch.newBuilder();
    SpendRecord r = SpendFixtures.record("x", TODAY, "t", "k", "m", "1").build();
    IntStream.range(0, SpendService.MAX_BATCH_RECORDS + 1)
        .forEach(i -> big.addRecords(r.toBuilder().setId("x" + i)));

    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> stub.record(big.build()));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("records: 10001 records (expected: at most 10000 per batch)");
  }

  @Test
  void aLedgerThatCannotStoreAnswersUnavailable() throws Exception {
    SpendLedger ledger = new InMemorySpendLedger(clock);
    var stub = serve(ledger);
    ledger.close();

    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> stub.record(batch("a", 1)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).contains("send it again");
  }

  @Test
  void concurrentCallsAreEachStoredOnce() throws Exception {
    FileSpendLedger ledger = FileSpendLedger.open(tmp.resolve("spend"), clock);
    var stub = serve(ledger);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<SpendAck>> acks = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        String prefix = "p" + (i % 20); // every batch twice
        acks.add(pool.submit(() -> stub.record(batch(prefix, 25))));
      }
      int accepted = 0;
      int duplicates = 0;
      for (Future<SpendAck> f : acks) {
        accepted += f.get(60, TimeUnit.SECONDS).getAccepted();
        duplicates += f.get().getDuplicates();
      }
      assertThat(accepted).isEqualTo(500);
      assertThat(duplicates).isEqualTo(500);
    } finally {
      pool.shutdownNow();
    }
    SpendTotals t =
        ledger.query(new SpendQuery(TODAY, TODAY, Map.of(), List.of())).get(0).totals();
    assertThat(t.requests()).isEqualTo(500);
    assertThat(t.costUsd()).isEqualByComparingTo("125");
  }
}
