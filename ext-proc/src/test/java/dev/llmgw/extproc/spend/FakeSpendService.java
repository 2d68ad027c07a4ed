package dev.llmgw.extproc.spend;

import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A control plane's SpendService for tests: counts what arrives, stores ids once, and can misbehave. */
final class FakeSpendService extends SpendServiceGrpc.SpendServiceImplBase {

  enum Mode {
    /** Store and acknowledge. */
    ACCEPT,
    /** Answer UNAVAILABLE, store nothing. */
    UNAVAILABLE,
    /** Never answer (the caller's deadline ends the call); switches to ACCEPT after one call. */
    HANG_ONCE,
    /** Store, then answer UNAVAILABLE as if the ack got lost; switches to ACCEPT after one call. */
    LOSE_ACK_ONCE
  }

  volatile Mode mode = Mode.ACCEPT;
  volatile Predicate<SpendRecord> invalid = r -> false;
  /** Every arrival, by id: more than 1 means it was sent again. */
  final Map<String, Integer> received = new ConcurrentHashMap<>();

  final Set<String> stored = ConcurrentHashMap.newKeySet();
  final AtomicInteger calls = new AtomicInteger();
  final AtomicInteger largestBatch = new AtomicInteger();
  /** While closed, a call waits here before it is looked at (so a test can let records pile up behind it). */
  volatile CountDownLatch gate = new CountDownLatch(0);

  @Override
  public synchronized void record(SpendBatch batch, StreamObserver<SpendAck> responses) {
    calls.incrementAndGet();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      responses.onError(Status.CANCELLED.asRuntimeException());
      return;
    }
    largestBatch.accumulateAndGet(batch.getRecordsCount(), Math::max);
    switch (mode) {
      case UNAVAILABLE -> {
        responses.onError(
            Status.UNAVAILABLE.withDescription("control plane away").asRuntimeException());
        return;
      }
      case HANG_ONCE -> {
        mode = Mode.ACCEPT;
        return;
      }
      default -> {
        // handled below
      }
    }
    for (int i = 0; i < batch.getRecordsCount(); i++) {
      if (invalid.test(batch.getRecords(i))) {
        responses.onError(Status.INVALID_ARGUMENT
            .withDescription("records[" + i + "].cost_usd: 'bad'")
            .asRuntimeException());
        return;
      }
    }
    int accepted = 0;
    for (SpendRecord r : batch.getRecordsList()) {
      received.merge(r.getId(), 1, Integer::sum);
      if (stored.add(r.getId())) {
        accepted++;
      }
    }
    if (mode == Mode.LOSE_ACK_ONCE) {
      mode = Mode.ACCEPT;
      responses.onError(
          Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
      return;
    }
    responses.onNext(SpendAck.newBuilder()
        .setAccepted(accepted)
        .setDuplicates(batch.getRecordsCount() - accepted)
        .build());
    responses.onCompleted();
  }
}
