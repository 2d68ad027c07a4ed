/**
 * Cost accounting: a price catalog with the source and date of every rate ({@code prices.yaml},
 * overridable by operators), exact decimal cost per exchange from its token report, labelled an
 * estimate where the gateway's counts stood in for the provider's usage, and spend metrics with
 * bounded tags. See docs/cost.md.
 *
 * <p>Entry points: {@link dev.llmgw.extproc.cost.CostCalculator}, {@link dev.llmgw.extproc.cost.PriceCatalog},
 * {@link dev.llmgw.extproc.cost.CostMetrics}.
 */
package dev.llmgw.extproc.cost;
