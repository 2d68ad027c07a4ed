package dev.llmgw.extproc.spend;

import dev.llmgw.extproc.cost.Cost;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.server.Identity;
import dev.llmgw.extproc.server.StreamContext;
import dev.llmgw.proto.spend.v1.SpendRecord;
import java.time.Clock;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Turns each priced exchange into a ledger record and hands it to the {@link SpendReporter}. */
public final class SpendRecords {

  private SpendRecords() {}

  /** A {@link CostTagging.SpendSink} that reports to {@code reporter}; never blocks. */
  public static CostTagging.SpendSink sink(SpendReporter reporter, Clock clock) {
    return (context, report, cost, servedModel) -> reporter.record(record(context, cost, clock));
  }

  /**
   * One exchange's record: a fresh id (the ledger counts each id once), who, the route the policy
   * chose and the provider that served it (which differ on weighted and failover routes), which
   * models, tokens and cost.
   */
  static SpendRecord record(StreamContext context, Cost cost, Clock clock) {
    Identity id = context.identity();
    Cost.Breakdown b = cost.breakdown();
    SpendRecord.Builder r = SpendRecord.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setAtEpochMillis(clock.millis())
        .setInputTokens(b.inputTokens())
        .setCachedInputTokens(b.cachedInputTokens())
        .setCacheWriteTokens(b.cacheWriteTokens())
        .setOutputTokens(b.outputTokens())
        .setReasoningTokens(b.reasoningTokens())
        .setCostUsd(cost.usd().toPlainString())
        .setEstimated(cost.estimated())
        .setPriceVersion(cost.priceVersion());
    set(r::setTenant, id.tenant());
    set(r::setApiKeyId, id.apiKeyId());
    set(r::setApplication, id.application());
    set(r::setUser, id.user());
    set(r::setRequestedModel, context.requestedModel());
    if (context.target() != null) {
      r.setRoute(context.target().route());
    }
    set(r::setProvider, context.provider());
    // The model the request was sent to (what spend is grouped by); the provider's own name for it,
    // often a dated snapshot, is in the access log as served_model.
    r.setModel(context.target() != null ? context.target().model() : cost.model());
    return r.build();
  }

  private static void set(java.util.function.Consumer<String> setter, @Nullable String value) {
    if (value != null) {
      setter.accept(value);
    }
  }
}
