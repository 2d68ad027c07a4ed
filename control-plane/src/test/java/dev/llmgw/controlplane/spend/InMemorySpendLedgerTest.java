package dev.llmgw.controlplane.spend;

import java.nio.file.Path;

class InMemorySpendLedgerTest extends SpendLedgerContract {

  @Override
  SpendLedger newLedger(Path dir, SpendFixtures.MutableClock clock) {
    return new InMemorySpendLedger(clock);
  }
}
