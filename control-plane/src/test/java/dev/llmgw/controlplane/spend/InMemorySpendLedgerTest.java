package dev.llmgw.controlplane.spend;

import java.nio.file.Path;

/** The ledger contract (every test and assertion of {@link SpendLedgerContract}) against the in-memory ledger. */
class InMemorySpendLedgerTest extends SpendLedgerContract {

  @Override
  SpendLedger newLedger(Path dir, SpendFixtures.MutableClock clock) {
    return new InMemorySpendLedger(clock);
  }
}
