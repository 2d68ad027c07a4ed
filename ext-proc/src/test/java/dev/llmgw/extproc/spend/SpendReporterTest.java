package dev.llmgw.extproc.spend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.llmgw.proto.spend.v1.SpendRecord;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpendReporterTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path spoolDir;

  private final FakeSpendService controlPlane = new FakeSpendService();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name).addService(controlPlane).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static SpendReporter.Settings settings(int queueCapacity, Duration deadline) {
    return new SpendReporter.Settings(
        queueCapacity,
        50,
        deadline,
        Duration.ofMillis(20),
        Duration.ofMillis(200),
        64L * 1024 * 1024,
        4096,
        "ext-proc-test");
  }

  private SpendReporter reporter() {
    return reporter(settings(1000, Duration.ofSeconds(5)), Thread::new);
  }

  private SpendReporter reporter(SpendReporter.Settings settings, ThreadFactory threads) {
    SpendReporter r =
        new SpendReporter(channel, spoolDir, registry, Clock.systemUTC(), settings, threads);
    toClose.add(r);
    return r;
  }

  static SpendRecord record(String id) {
    return SpendRecord.newBuilder()
        .setId(id)
        .setAtEpochMillis(1_764_000_000_000L)
        .setTenant("acme")
        .setApiKeyId("key-1")
        .setModel("gpt-4o")
        .setInputTokens(10)
        .setOutputTokens(20)
        .setCostUsd("0.000250000000")
        .setPriceVersion("p1")
        .build();
  }

  static List<String> ids(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + "-" + i).toList();
  }

  private double counter(String name) {
    return registry.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Test
  void recordsAreShippedInBatchesAndForgottenOnceAcknowledged() {
    SpendReporter reporter = reporter();
    ids("a", 230).forEach(id -> reporter.record(record(id)));

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 230);
    await().atMost(WAIT).until(() -> reporter.spooled() == 0);
    assertThat(controlPlane.received.values()).allMatch(n -> n == 1);
    assertThat(controlPlane.largestBatch.get()).isLessThanOrEqualTo(50);
    assertThat(counter(SpendMetrics.QUEUED)).isEqualTo(230);
    assertThat(counter(SpendMetrics.SHIPPED)).isEqualTo(230);
    assertThat(registry.find(SpendMetrics.SPOOLED).gauge().value()).isZero();
    assertThat(reporter.dropped()).isZero();
  }

  @Test
  void whileTheControlPlaneIsAwayRecordsWaitInTheSpoolAndArriveOnceEachWhenItIsBack() {
    controlPlane.mode = FakeSpendService.Mode.UNAVAILABLE;
    SpendReporter reporter = reporter();
    ids("a", 120).forEach(id -> reporter.record(record(id)));

    await().atMost(WAIT).until(() -> reporter.spooled() == 120);
    await().atMost(WAIT).until(() -> counter(SpendMetrics.SHIP_FAILURES) >= 3);
    assertThat(registry
            .find(SpendMetrics.SHIP_FAILURES)
            .tag(SpendMetrics.TAG_CODE, "UNAVAILABLE")
            .counter())
        .isNotNull();
    assertThat(controlPlane.stored).isEmpty();
    ids("b", 30).forEach(id -> reporter.record(record(id)));

    controlPlane.mode = FakeSpendService.Mode.ACCEPT;

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 150);
    await().atMost(WAIT).until(() -> reporter.spooled() == 0);
    assertThat(controlPlane.received).hasSize(150);
    assertThat(controlPlane.received.values())
        .as("each record delivered exactly once")
        .allMatch(n -> n == 1);
    assertThat(counter(SpendMetrics.DUPLICATES)).isZero();
  }

  @Test
  void aRestartedReporterFirstSendsWhatTheSpoolHolds() throws Exception {
    controlPlane.mode = FakeSpendService.Mode.UNAVAILABLE;
    SpendReporter first = reporter();
    ids("a", 75).forEach(id -> first.record(record(id)));
    await().atMost(WAIT).until(() -> first.spooled() == 75);
    first.close();
    assertThat(Files.size(spoolDir.resolve(SpendSpool.SPOOL_FILE)))
        .isGreaterThan(SpendSpool.HEADER_BYTES);

    controlPlane.mode = FakeSpendService.Mode.ACCEPT;
    SpendReporter second = reporter();

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 75);
    await().atMost(WAIT).until(() -> second.spooled() == 0);
    assertThat(controlPlane.received.values()).allMatch(n -> n == 1);
  }

  @Test
  void closeWritesQueuedRecordsToTheSpoolForTheNextStart() {
    controlPlane.mode = FakeSpendService.Mode.UNAVAILABLE;
    SpendReporter first = reporter();
    ids("a", 500).forEach(id -> first.record(record(id)));
    first.close();
    first.record(record("after-close"));
    assertThat(counter(SpendMetrics.DROPPED)).isEqualTo(1);

    controlPlane.mode = FakeSpendService.Mode.ACCEPT;
    reporter();

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 500);
  }

  @Test
  void aFullQueueDropsAndCountsWithoutBlocking() {
    CountDownLatch release = new CountDownLatch(1);
    // The background thread waits, so nothing leaves the queue until the test releases it.
    ThreadFactory stalled = r -> new Thread(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        return;
      }
      r.run();
    });
    SpendReporter reporter = reporter(settings(10, Duration.ofSeconds(5)), stalled);

    long started = System.nanoTime();
    ids("a", 25).forEach(id -> reporter.record(record(id)));
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(tookMillis).as("record() never waits").isLessThan(1000);
    assertThat(reporter.dropped()).isEqualTo(15);
    assertThat(registry
            .find(SpendMetrics.DROPPED)
            .tag(SpendMetrics.TAG_REASON, "queue_full")
            .counter()
            .count())
        .isEqualTo(15);
    assertThat(counter(SpendMetrics.QUEUED)).isEqualTo(10);

    release.countDown();
    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 10);
    ids("b", 10).forEach(id -> reporter.record(record(id)));
    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 20);
  }

  @Test
  void aLostAckMeansTheBatchIsSentAgainAndTheLedgerCountsItOnce() {
    controlPlane.mode = FakeSpendService.Mode.LOSE_ACK_ONCE;
    SpendReporter reporter = reporter();
    ids("a", 40).forEach(id -> reporter.record(record(id)));

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 40 && reporter.spooled() == 0);
    await().atMost(WAIT).until(() -> counter(SpendMetrics.DUPLICATES) > 0);
    assertThat(controlPlane.received.values())
        .as("the batch whose ack was lost arrived twice")
        .contains(2);
    assertThat(counter(SpendMetrics.SHIP_FAILURES)).isEqualTo(1);
  }

  @Test
  void aControlPlaneThatDoesNotAnswerIsCutOffByTheDeadlineAndTriedAgain() {
    controlPlane.mode = FakeSpendService.Mode.HANG_ONCE;
    SpendReporter reporter = reporter(settings(1000, Duration.ofMillis(300)), Thread::new);
    ids("a", 5).forEach(id -> reporter.record(record(id)));

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 5 && reporter.spooled() == 0);
    assertThat(registry
            .find(SpendMetrics.SHIP_FAILURES)
            .tag(SpendMetrics.TAG_CODE, "DEADLINE_EXCEEDED")
            .counter()
            .count())
        .isEqualTo(1);
  }

  @Test
  void recordsTheControlPlaneRefusesAreFoundOneByOneAndDroppedTheRestDelivered() {
    controlPlane.invalid = r -> r.getId().equals("a-7") || r.getId().equals("a-31");
    SpendReporter reporter = reporter();
    ids("a", 45).forEach(id -> reporter.record(record(id)));

    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 43 && reporter.spooled() == 0);
    assertThat(controlPlane.stored).doesNotContain("a-7", "a-31");
    assertThat(counter(SpendMetrics.REJECTED)).isEqualTo(2);
    // One record goes out and is held at the control plane while 59 more pile up in the spool
    // behind it,
    // so the next call shows whether the reporter went back to full batches or stayed one by one.
    CountDownLatch held = new CountDownLatch(1);
    controlPlane.gate = held;
    int callsBefore = controlPlane.calls.get();
    reporter.record(record("b-first"));
    await().atMost(WAIT).until(() -> controlPlane.calls.get() == callsBefore + 1);
    ids("b", 59).forEach(id -> reporter.record(record(id)));
    await().atMost(WAIT).until(() -> reporter.spooled() == 60);
    held.countDown();
    await().atMost(WAIT).until(() -> controlPlane.stored.size() == 103);
    assertThat(controlPlane.largestBatch.get())
        .as("back to full batches after the refused one")
        .isEqualTo(50);
  }

  @Test
  void aRecordWithoutIdIsDroppedAsInvalid() {
    SpendReporter reporter = reporter();
    reporter.record(record(""));
    reporter.record(null);

    assertThat(registry
            .find(SpendMetrics.DROPPED)
            .tag(SpendMetrics.TAG_REASON, "invalid")
            .counter()
            .count())
        .isEqualTo(2);
    assertThat(counter(SpendMetrics.QUEUED)).isZero();
  }

  @Test
  void twoReportersCannotShareASpool() {
    reporter();

    assertThatThrownBy(this::reporter)
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("already open in this process");
  }

  @Test
  void theDisabledReporterIgnoresEverything() {
    try (SpendReporter disabled = SpendReporter.disabled()) {
      disabled.record(record("a"));
      disabled.record(null);
      assertThat(disabled.spooled()).isZero();
      assertThat(disabled.dropped()).isZero();
    }
  }
}
