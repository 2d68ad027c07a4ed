/**
 * Reporting each exchange's spend to the control plane's ledger. {@link
 * dev.llmgw.extproc.spend.SpendReporter} takes records on the request path without blocking,
 * spools them locally (fsync) and ships them over {@code llmgw.spend.v1.SpendService}, forgetting
 * them only once the control plane acknowledged them as durable. Metric names are in {@link
 * dev.llmgw.extproc.spend.SpendMetrics}; data flow and guarantees in {@code docs/ledger.md}.
 */
package dev.llmgw.extproc.spend;
