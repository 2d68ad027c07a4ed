package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.tokens.ProviderUsage;
import dev.llmgw.extproc.tokens.TokenReport;
import java.math.BigDecimal;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Prices exchanges from their {@link TokenReport}: the provider's usage when it reported one, the
 * gateway's own counts otherwise (then labelled {@link Cost#estimated() estimated}). Token counts are
 * {@code long} and dollars exact decimals throughout: {@code tokens × rate / 1,000,000} per kind,
 * summed, so no count can wrap around. Usage the provider reported but token counting did not
 * believe ({@code UsageBounds}) never reaches this class: the report then carries the gateway's
 * counts.
 *
 * <p>How tokens are billed:
 * <ul>
 *   <li>prompt: cached tokens at the cached-input rate, cache writes at the cache-write rate (those the
 *       provider reports as written for one hour at the one-hour cache-write rate), the rest
 *       ({@code prompt − cached − cache writes}) at the input rate. Cache figures come only from the
 *       provider's usage; a prompt the gateway counted is all input;
 *   <li>completion: reasoning tokens (as the provider reports them) at the reasoning rate, the rest at
 *       the output rate. A completion the gateway counted has no reasoning tokens (they are hidden), so
 *       its estimate is low for reasoning models. An unknown completion costs nothing: the cost is then
 *       the prompt's alone, an estimate and a lower bound;
 *   <li>a missing rate falls back: cached input and cache writes to input, one-hour cache writes to
 *       cache writes, reasoning to output;
 *   <li>when the model has long-context rates and the prompt is above their threshold, every token of
 *       the exchange is billed at those.
 * </ul>
 *
 * Not priced ({@link Unpriced}): a model the catalog does not list; an error response without usage
 * (the gateway does not guess whether the provider billed it); output tokens of a model without an
 * output rate. Thread-safe; one instance serves every stream.
 */
public final class CostCalculator {

  private final PriceCatalog catalog;

  public CostCalculator(PriceCatalog catalog) {
    this.catalog = requireNonNull(catalog, "catalog");
  }

  /** The cost of the exchange {@code report} describes, or why it has none. */
  public CostResult cost(TokenReport report) {
    requireNonNull(report, "report");
    ProviderUsage usage = report.reported();
    if (usage == null && report.responseStatus() >= 400) {
      return new Unpriced(
          Unpriced.Reason.UPSTREAM_ERROR,
          "upstream answered " + report.responseStatus() + " without a usage report: not priced");
    }
    Optional<ModelPrice> found = catalog.find(report.model());
    if (found.isEmpty()) {
      return new Unpriced(
          Unpriced.Reason.UNKNOWN_MODEL,
          "no price for model '" + report.model() + "' in price catalog " + catalog.version());
    }
    ModelPrice price = found.get();
    long prompt = report.promptTokens();
    if (prompt < 0) {
      return new Unpriced(
          Unpriced.Reason.NO_PROMPT_COUNT, "prompt tokens of '" + report.model() + "' unknown");
    }

    long cached = 0;
    long written = 0;
    long writtenForAnHour = 0;
    if (report.promptSource() == TokenReport.Source.PROVIDER && usage != null) {
      cached = Math.min(prompt, Math.max(0, usage.cachedTokens()));
      written = Math.min(prompt - cached, Math.max(0, usage.cacheCreationTokens()));
      writtenForAnHour = Math.min(written, Math.max(0, usage.cacheCreation1hTokens()));
    }
    long uncached = prompt - cached - written;

    long output = 0;
    long reasoning = 0;
    TokenReport.Source completionSource = report.completionSource();
    if (completionSource == TokenReport.Source.PROVIDER && usage != null) {
      long completion = report.completionTokens();
      reasoning = Math.min(completion, Math.max(0, usage.reasoningTokens()));
      output = completion - reasoning;
    } else if (completionSource != TokenReport.Source.UNKNOWN) {
      output = report.completionTokens();
    }

    Rates rates = Rates.of(price, prompt);
    if ((output > 0 && rates.output == null) || (reasoning > 0 && rates.reasoning == null)) {
      return new Unpriced(
          Unpriced.Reason.NO_OUTPUT_PRICE,
          "model '" + price.model() + "' has no output price in " + catalog.version()
              + ", but the exchange has " + (output + reasoning) + " output tokens");
    }
    boolean estimated = report.promptSource() != TokenReport.Source.PROVIDER
        || completionSource != TokenReport.Source.PROVIDER;
    Cost.Breakdown breakdown = new Cost.Breakdown(
        uncached,
        cached,
        written,
        output,
        reasoning,
        usd(uncached, rates.input),
        usd(cached, rates.cachedInput),
        usd(written - writtenForAnHour, rates.cacheWrite)
            .add(usd(writtenForAnHour, rates.cacheWrite1h)),
        usd(output, rates.output),
        usd(reasoning, rates.reasoning),
        rates.longContext);
    return new Cost(price.model(), breakdown.totalUsd(), estimated, catalog.version(), breakdown);
  }

  /**
   * {@code tokens × rate / 1,000,000}, exact; a rate is never needed for zero tokens, and the only
   * rates that may be null (output, reasoning) were checked against their tokens before.
   */
  private static BigDecimal usd(long tokens, @Nullable BigDecimal ratePerMillion) {
    if (tokens == 0 || ratePerMillion == null) {
      return BigDecimal.ZERO.setScale(Cost.USD_SCALE);
    }
    // Exact: rates have at most 6 decimals, so the product moved 6 places has at most 12.
    return ratePerMillion
        .multiply(BigDecimal.valueOf(tokens))
        .movePointLeft(6)
        .setScale(Cost.USD_SCALE);
  }

  /** The rates one exchange is billed at, fallbacks applied; {@code output}/{@code reasoning} may be null. */
  private record Rates(
      BigDecimal input,
      BigDecimal cachedInput,
      BigDecimal cacheWrite,
      BigDecimal cacheWrite1h,
      @Nullable BigDecimal output,
      @Nullable BigDecimal reasoning,
      boolean longContext) {

    static Rates of(ModelPrice p, long promptTokens) {
      ModelPrice.LongContext lc = p.longContext();
      if (lc != null && promptTokens > lc.abovePromptTokens()) {
        return filled(
            lc.input(),
            lc.cachedInput(),
            lc.cacheWrite(),
            lc.cacheWrite1h(),
            lc.output(),
            lc.reasoning(),
            true);
      }
      return filled(
          p.input(),
          p.cachedInput(),
          p.cacheWrite(),
          p.cacheWrite1h(),
          p.output(),
          p.reasoning(),
          false);
    }

    private static Rates filled(
        BigDecimal input,
        @Nullable BigDecimal cachedInput,
        @Nullable BigDecimal cacheWrite,
        @Nullable BigDecimal cacheWrite1h,
        @Nullable BigDecimal output,
        @Nullable BigDecimal reasoning,
        boolean longContext) {
      BigDecimal write = cacheWrite != null ? cacheWrite : input;
      return new Rates(
          input,
          cachedInput != null ? cachedInput : input,
          write,
          cacheWrite1h != null ? cacheWrite1h : write,
          output,
          reasoning != null ? reasoning : output,
          longContext);
    }
  }
}
