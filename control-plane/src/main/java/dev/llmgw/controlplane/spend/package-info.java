/**
 * The spend ledger: what every exchange cost, per UTC day, tenant, API key and model. ext-proc
 * reports records over {@link dev.llmgw.controlplane.spend.SpendService} (gRPC, on the xDS port);
 * {@link dev.llmgw.controlplane.spend.SpendLedger} is the contract: idempotent by record id, durable
 * before the ack. {@link dev.llmgw.controlplane.spend.FileSpendLedger} is the embedded default
 * (fsync'd journal of the recent days plus a totals file of the older ones, replayed into memory on
 * start), {@link dev.llmgw.controlplane.spend.InMemorySpendLedger} is for {@code --store=memory} and
 * tests. The REST query is {@code GET /v1/spend} in {@code rest}. Data flow and guarantees: {@code
 * docs/ledger.md}.
 */
package dev.llmgw.controlplane.spend;
