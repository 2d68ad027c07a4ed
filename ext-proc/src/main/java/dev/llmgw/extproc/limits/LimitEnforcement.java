package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.cost.Cost;
import dev.llmgw.extproc.cost.CostEstimate;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.KeyIdentity;
import dev.llmgw.extproc.policy.ModelTarget;
import dev.llmgw.extproc.server.Answer;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.Fact;
import dev.llmgw.extproc.server.RejectException;
import dev.llmgw.extproc.server.StreamContext;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.TokenObserver;
import dev.llmgw.extproc.tokens.TokenReport;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Budgets and token rate limits on the data path, as an {@link ExchangeListener} registered after
 * token counting and {@code CostTagging}: before a request is forwarded, its estimate (counted prompt
 * plus allowed output, priced) is checked and reserved against every limit that applies to its API
 * key and tenant; a request that does not fit gets a 429 saying what remains and when it resets.
 * When the exchange ends, the reservation is settled with the cost and tokens the provider reported,
 * or with the estimate when the response never completed.
 *
 * <p>The rules come from the policy of each exchange; the counters live in the {@link LimitStore}
 * (in-process, or Redis shared by replicas), so a policy change keeps what was spent.
 */
public final class LimitEnforcement implements ExchangeListener {

  private final LimitStore store;
  private final Clock clock;
  private final MeterRegistry registry;
  /** The engine for the last rules seen; rebuilt when a new policy brings new rules. */
  private final AtomicReference<Limits> current = new AtomicReference<>();

  public LimitEnforcement(LimitStore store, Clock clock, MeterRegistry registry) {
    this.store = requireNonNull(store, "store");
    this.clock = requireNonNull(clock, "clock");
    this.registry = requireNonNull(registry, "registry");
  }

  @Override
  public Set<Fact<?>> needs() {
    return Set.of(TokenCounting.TOKENS, CostTagging.COST_ESTIMATE, CostTagging.COST);
  }

  @Override
  public Observer open(StreamContext context) {
    LimitsConfig config = context.policy().limits();
    if (config.budgets().isEmpty() && config.rates().isEmpty()) {
      return NOTHING;
    }
    return new LimitObserver(context, limitsFor(config));
  }

  private Limits limitsFor(LimitsConfig config) {
    Limits limits = current.get();
    if (limits != null && limits.config() == config) {
      return limits;
    }
    Limits built = Limits.builder()
        .store(store)
        .clock(clock)
        .meterRegistry(registry)
        .config(config)
        .build();
    current.set(built);
    return built;
  }

  private static final Observer NOTHING = new Observer() {};

  /** One exchange: admitted (holding reservations) or refused. */
  private static final class LimitObserver implements Observer {
    private final StreamContext context;
    private final Limits limits;
    private @Nullable Admission admission;

    LimitObserver(StreamContext context, Limits limits) {
      this.context = context;
      this.limits = limits;
    }

    @Override
    public @Nullable Answer onRequest(LlmRequest request) {
      CostEstimate estimate = context.get(CostTagging.COST_ESTIMATE);
      long tokens = estimate == null ? 0 : estimate.tokens();
      BigDecimal usd = estimate == null ? BigDecimal.ZERO : estimate.usd();
      String model = context.requestedModel();
      ModelTarget target = context.target();
      String keyId = context.identity().apiKeyId();
      String tenant = context.identity().tenant();
      GatewayPolicy policy = context.policy();
      KeyIdentity registered = keyId == null ? null : policy.keys().get(keyId);
      Admission admitted = limits.admit(new LimitRequest(
          keyId,
          tenant,
          model == null ? "" : model,
          tokens,
          usd,
          target == null ? null : target.route(),
          registered != null,
          tenant != null
              && ((registered != null && tenant.equals(registered.tenant()))
                  || policy.tenantModels().containsKey(tenant))));
      admission = admitted;
      Rejection r = admitted.rejection().orElse(null);
      if (r != null) {
        long seconds = r.retryAfter().toSeconds() + (r.retryAfter().toNanosPart() > 0 ? 1 : 0);
        throw new RejectException(error(r), Math.max(1, seconds));
      }
      admitted.downgradeTo().ifPresent(this::downgrade);
      return null;
    }

    /**
     * Sends the exchange to the budget's cheaper model: a model name of the policy (alias) when it
     * lists one, else that provider model on the route the request already takes.
     */
    private void downgrade(String model) {
      ModelTarget current = context.target();
      ModelTarget to = context
          .policy()
          .resolve(context.identity().tenant(), model)
          .orElseGet(() -> current == null ? null : new ModelTarget(current.route(), model));
      if (to == null) {
        throw new RejectException(
            new ApiError(
                429,
                ApiError.Kind.RATE_LIMIT,
                null,
                "budget_exceeded",
                "The budget is spent and its cheaper model '" + model
                    + "' has no route for this request (expected: "
                    + "a model name the gateway's policy lists)"),
            60);
      }
      context.retarget(to);
    }

    @Override
    public Map<String, Object> requestMetadata() {
      return admission == null || !admission.admitted() ? Map.of() : Map.of("limits_checked", true);
    }

    /**
     * Settles once the exchange is over. Cost and token counting's observers ran their end before
     * this one, so the exchange's cost, if it has one, is attached by now.
     */
    @Override
    public void onEnd() {
      Admission admission = this.admission;
      if (admission == null || !admission.admitted()) {
        return;
      }
      if (!context.forwarded()) {
        // Refused or answered by the gateway after admission (a stage asked again after a
        // downgrade): no provider saw it, so nothing is owed.
        limits.settle(admission, 0, BigDecimal.ZERO);
        return;
      }
      if (context.responseStatus() == 0) {
        // No response: the provider may or may not have billed; keep the estimate.
        limits.settleWithEstimate(admission);
        return;
      }
      Cost cost = context.get(CostTagging.COST);
      TokenObserver tokens = context.get(TokenCounting.TOKENS);
      TokenReport report = tokens == null ? null : tokens.report();
      long actualTokens = report == null ? 0 : Math.max(0, report.totalTokens());
      if (report != null && !report.complete() && cost == null) {
        limits.settleWithEstimate(admission);
        return;
      }
      limits.settle(admission, actualTokens, cost == null ? BigDecimal.ZERO : cost.usd());
    }
  }

  /** 429 in the called API's shape for a spent limit; 503 when the limits store is down and fails closed. */
  static ApiError error(Rejection r) {
    if (r.kind() == Rejection.Kind.LIMITS_UNAVAILABLE) {
      return new ApiError(503, ApiError.Kind.GATEWAY, null, "limits_unavailable", r.message());
    }
    String code = r.kind() == Rejection.Kind.BUDGET ? "budget_exceeded" : "rate_limit_exceeded";
    return new ApiError(429, ApiError.Kind.RATE_LIMIT, null, code, r.message());
  }
}
