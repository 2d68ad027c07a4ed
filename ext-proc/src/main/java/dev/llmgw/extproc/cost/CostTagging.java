package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.Fact;
import dev.llmgw.extproc.server.StreamContext;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.TokenReport;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Prices every exchange as an {@link ExchangeListener}: an estimate before it is forwarded (for
 * budgets and rate limits), the cost from the provider's usage once the response ended. The cost goes
 * into the exchange's dynamic metadata (so the access log carries it with the identity tags), into
 * metrics by tenant, model and provider, and to a {@link SpendSink} (the spend ledger), off the
 * request path. Register it after token counting, whose counts it prices.
 */
public final class CostTagging implements ExchangeListener {

  /** What the request is expected to cost, priced before it is forwarded. */
  public static final Fact<CostEstimate> COST_ESTIMATE =
      Fact.of("cost_estimate", CostEstimate.class);

  /** What the exchange cost, priced from its usage when it ended; absent when it was not priced. */
  public static final Fact<Cost> COST = Fact.of("cost", Cost.class);

  /** Output tokens assumed for an estimate when the request sets no limit of its own. */
  public static final int DEFAULT_OUTPUT_ESTIMATE = 1024;

  /** Where each priced exchange goes once its cost is known; must not block. */
  @FunctionalInterface
  public interface SpendSink {
    /**
     * @param servedModel the model the provider says answered, or null
     */
    void record(StreamContext context, TokenReport report, Cost cost, @Nullable String servedModel);

    SpendSink NONE = (context, report, cost, servedModel) -> {};
  }

  private final Function<StreamContext, PriceCatalog> catalogs;
  private final CostMetrics metrics;
  private final SpendSink sink;
  private final int defaultOutputEstimate;

  private CostTagging(Builder b) {
    this.catalogs = b.catalogs;
    this.metrics = new CostMetrics(b.registry);
    this.sink = b.sink;
    this.defaultOutputEstimate = b.defaultOutputEstimate;
  }

  public static Builder builder(MeterRegistry registry) {
    return new Builder(requireNonNull(registry, "registry"));
  }

  @Override
  public Set<Fact<?>> needs() {
    return Set.of(TokenCounting.TOKENS);
  }

  @Override
  public Set<Fact<?>> produces() {
    return Set.of(COST_ESTIMATE, COST);
  }

  @Override
  public Observer open(StreamContext context) {
    return new CostObserver(context, new CostCalculator(catalogs.apply(context)), this);
  }

  CostMetrics metrics() {
    return metrics;
  }

  SpendSink sink() {
    return sink;
  }

  int defaultOutputEstimate() {
    return defaultOutputEstimate;
  }

  /** Options of {@link CostTagging}. */
  public static final class Builder {
    private final MeterRegistry registry;
    private Function<StreamContext, PriceCatalog> catalogs =
        context -> context.policy().prices();
    private SpendSink sink = SpendSink.NONE;
    private int defaultOutputEstimate = DEFAULT_OUTPUT_ESTIMATE;

    private Builder(MeterRegistry registry) {
      this.registry = registry;
    }

    /** The prices of an exchange; by default the policy's ({@code context.policy().prices()}: built-in plus operator). */
    public Builder catalogs(Function<StreamContext, PriceCatalog> catalogs) {
      this.catalogs = requireNonNull(catalogs, "catalogs");
      return this;
    }

    public Builder sink(SpendSink sink) {
      this.sink = requireNonNull(sink, "sink");
      return this;
    }

    public Builder defaultOutputEstimate(int tokens) {
      if (tokens < 0) {
        throw new IllegalArgumentException(
            "defaultOutputEstimate: " + tokens + " (expected: >= 0)");
      }
      this.defaultOutputEstimate = tokens;
      return this;
    }

    public CostTagging build() {
      return new CostTagging(this);
    }
  }
}
