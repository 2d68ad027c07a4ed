package dev.llmgw.extproc.cost;

import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.policy.ModelTarget;
import dev.llmgw.extproc.server.Answer;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.StreamContext;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.TokenObserver;
import dev.llmgw.extproc.tokens.TokenReport;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One exchange's pricing: estimate on the request path, cost when the response ended. */
final class CostObserver implements ExchangeListener.Observer {

  private final StreamContext context;
  private final CostCalculator calculator;
  private final CostTagging owner;
  private @Nullable TokenObserver tokens;
  private boolean finished;
  private @Nullable CostResult result;

  CostObserver(StreamContext context, CostCalculator calculator, CostTagging owner) {
    this.context = context;
    this.calculator = calculator;
    this.owner = owner;
  }

  @Override
  public @Nullable Answer onRequest(LlmRequest request) {
    tokens = context.get(TokenCounting.TOKENS);
    TokenReport counted = tokens == null ? null : tokens.report();
    if (counted == null) {
      return null;
    }
    int output = counted.requestedOutputTokens() > 0
        ? counted.requestedOutputTokens()
        : owner.defaultOutputEstimate();
    TokenReport expected = new TokenReport(
        counted.model(),
        counted.tokenizer(),
        counted.promptTokensCounted(),
        counted.countExact(),
        counted.requestedOutputTokens(),
        null,
        output,
        200,
        false);
    CostResult estimate = calculator.cost(expected);
    long expectedTokens = (long) counted.promptTokensCounted() + output;
    context.put(
        CostTagging.COST_ESTIMATE,
        estimate
            .cost()
            .map(c -> new CostEstimate(expectedTokens, c.usd(), true))
            .orElseGet(() -> new CostEstimate(expectedTokens, BigDecimal.ZERO, false)));
    return null;
  }

  @Override
  public void onResponseEnd() {
    finish();
  }

  @Override
  public Map<String, Object> responseMetadata() {
    Map<String, Object> out = new LinkedHashMap<>(4);
    if (result instanceof Cost c) {
      out.put("cost_usd", c.usd().stripTrailingZeros().toPlainString());
      out.put("cost_estimated", c.estimated());
      out.put("price_version", c.priceVersion());
      out.put("priced_model", c.model());
    } else if (result instanceof Unpriced u) {
      out.put("cost_unpriced", u.reason().tag());
    }
    return out;
  }

  @Override
  public void onEnd() {
    finish();
  }

  /**
   * Prices the exchange once, after token counting's own end (its observer runs before this one).
   * Requests that never got a response (refused by a later listener, or reset before the provider
   * answered) are not priced: nothing says the provider billed them.
   */
  private void finish() {
    TokenObserver tokens = this.tokens;
    if (finished || tokens == null || context.responseStatus() == 0) {
      return;
    }
    finished = true;
    TokenReport report = tokens.report();
    if (report == null) {
      return;
    }
    result = calculator.cost(report);
    ModelTarget target = context.target();
    String route = target == null ? null : target.route();
    if (result instanceof Cost c) {
      context.put(CostTagging.COST, c);
      owner.metrics().record(context.identity().tenant(), route, context.provider(), c);
      owner.sink().record(context, report, c, tokens.servedModel());
    } else if (result instanceof Unpriced u) {
      owner.metrics().unpriced(route, context.provider(), u.reason());
    }
  }
}
