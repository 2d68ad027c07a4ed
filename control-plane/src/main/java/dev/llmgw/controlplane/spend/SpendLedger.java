package dev.llmgw.controlplane.spend;

import java.util.List;

/**
 * Where the spend ext-proc reports is kept, and added up per UTC day, tenant, API key and model.
 * Every implementation is idempotent by record id (within {@link #dedupWindowDays()}) and durable
 * before {@link #record} returns, as far as it is durable at all. Format and guarantees:
 * {@code docs/ledger.md}.
 */
public interface SpendLedger extends AutoCloseable {

  /** Days of record ids kept for duplicate detection unless a ledger is told otherwise. */
  int DEFAULT_DEDUP_WINDOW_DAYS = 7;

  /** How many records of a batch were stored, and how many the ledger already held. */
  record Recorded(int accepted, int duplicates) {}

  /**
   * Stores the records whose id the ledger does not hold yet, and counts the others as duplicates
   * (also a record repeated within the batch). Returns once the stored ones are durable; until then
   * no query sees them. Thread-safe; calls are stored one after the other.
   *
   * @param source who sent the batch, kept with it for audit (e.g. {@code ext-proc-host-1234})
   * @throws SpendLedgerException if the batch could not be made durable; it may or may not be stored
   */
  Recorded record(List<Spend> records, String source);

  /**
   * The totals per group of the query, sorted by day, tenant, API key and model. Never waits for a
   * {@link #record} in progress, and sees every batch either whole or not at all.
   */
  List<SpendRow> query(SpendQuery query);

  /**
   * For how many UTC days back (from today) record ids are remembered. A record older than that is
   * counted without a duplicate check: see {@code docs/ledger.md}, "Idempotency".
   */
  int dedupWindowDays();

  @Override
  void close();
}
