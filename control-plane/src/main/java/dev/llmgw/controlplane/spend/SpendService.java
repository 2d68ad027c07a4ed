package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code llmgw.spend.v1.SpendService} on the xDS port: ext-proc's batches go into the ledger, and
 * the ack goes out only once the ledger has made them durable. A batch is validated whole before
 * anything is stored: one bad record is an INVALID_ARGUMENT naming it ({@code records[3].cost_usd})
 * and stores nothing. A ledger that cannot store answers UNAVAILABLE, so the sender keeps the batch
 * and tries again.
 */
public final class SpendService extends SpendServiceGrpc.SpendServiceImplBase {

  private static final Logger log = LoggerFactory.getLogger(SpendService.class);

  /** Most records one call may carry: bounds one journal line and the time a call holds the writer. */
  public static final int MAX_BATCH_RECORDS = 10_000;

  private static final int MAX_SOURCE_CHARS = 128;

  private final SpendLedger ledger;

  public SpendService(SpendLedger ledger) {
    this.ledger = requireNonNull(ledger, "ledger");
  }

  @Override
  public void record(SpendBatch batch, StreamObserver<SpendAck> responses) {
    if (batch.getRecordsCount() > MAX_BATCH_RECORDS) {
      responses.onError(Status.INVALID_ARGUMENT
          .withDescription("records: " + batch.getRecordsCount() + " records (expected: at most "
              + MAX_BATCH_RECORDS + " per batch)")
          .asRuntimeException());
      return;
    }
    String source = source(batch.getReporterId());
    List<Spend> spends = new ArrayList<>(batch.getRecordsCount());
    try {
      for (int i = 0; i < batch.getRecordsCount(); i++) {
        spends.add(Spend.from(batch.getRecords(i), "records[" + i + "]."));
      }
    } catch (InvalidSpendException e) {
      log.warn(
          "refused a spend batch of {} records from '{}': {}",
          batch.getRecordsCount(),
          source,
          e.getMessage());
      responses.onError(
          Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    SpendLedger.Recorded recorded;
    try {
      recorded = ledger.record(spends, source);
    } catch (SpendLedgerException e) {
      log.error(
          "could not store a spend batch of {} records from '{}': {}",
          spends.size(),
          source,
          e.getMessage());
      responses.onError(Status.UNAVAILABLE
          .withDescription("the spend ledger could not store the batch; it may or may"
              + " not be stored, send it again: " + e.getMessage())
          .asRuntimeException());
      return;
    }
    log.debug(
        "spend batch from '{}': {} accepted, {} duplicates",
        source,
        recorded.accepted(),
        recorded.duplicates());
    responses.onNext(SpendAck.newBuilder()
        .setAccepted(recorded.accepted())
        .setDuplicates(recorded.duplicates())
        .build());
    responses.onCompleted();
  }

  private static String source(String reporterId) {
    if (reporterId.isEmpty()) {
      return "(unnamed)";
    }
    return reporterId.length() <= MAX_SOURCE_CHARS
        ? reporterId
        : reporterId.substring(0, MAX_SOURCE_CHARS);
  }
}
