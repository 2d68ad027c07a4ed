package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.List;

/**
 * A ledger that keeps nothing across restarts, for {@code --store=memory} and tests. Same rules as
 * {@link FileSpendLedger} otherwise: duplicates by id, whole batches visible at once.
 */
public final class InMemorySpendLedger implements SpendLedger {

  private final SpendBook book;
  private volatile boolean closed;

  public InMemorySpendLedger(Clock clock) {
    this(clock, DEFAULT_DEDUP_WINDOW_DAYS);
  }

  public InMemorySpendLedger(Clock clock, int dedupWindowDays) {
    this.book = new SpendBook(requireNonNull(clock, "clock"), dedupWindowDays);
  }

  @Override
  public Recorded record(List<Spend> records, String source) {
    requireNonNull(source, "source");
    return book.record(records, fresh -> {
      if (closed) {
        throw new SpendLedgerException(
            "the in-memory spend ledger is closed (expected: records before close())");
      }
    });
  }

  @Override
  public List<SpendRow> query(SpendQuery query) {
    return book.query(query);
  }

  @Override
  public int dedupWindowDays() {
    return book.dedupWindowDays();
  }

  /** Record ids held in memory for duplicate detection. */
  public long rememberedIds() {
    return book.rememberedIds();
  }

  @Override
  public void close() {
    closed = true;
  }
}
