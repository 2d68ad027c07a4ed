package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What token counting learned about one exchange: the gateway's own count, the provider's usage,
 * and which of them each figure comes from. Billing and budgets use {@link #promptTokens()} and
 * {@link #completionTokens()}: the provider's numbers whenever it reported believable ones, the
 * gateway's count otherwise, with {@link #promptSource()} / {@link #completionSource()} saying which.
 *
 * @param model the catalog name of the model (or the name as sent when unlisted)
 * @param tokenizer what the gateway counted with
 * @param promptTokensCounted the gateway's prompt count on the request path
 * @param countExact whether that count is expected to equal the provider's (see {@link PromptCount#exact()})
 * @param requestedOutputTokens the output budget the request asked for, -1 when none
 * @param reported the provider's usage, or null when it reported none or reported usage that was
 *     not believable ({@code usageRejected})
 * @param completionTokensCounted the gateway's count of the response text (tokenizer or estimate),
 *     -1 when no response text was seen; never includes hidden reasoning tokens
 * @param responseStatus the upstream HTTP status, 0 when no response arrived
 * @param complete whether the response body was seen to its end
 * @param usageRejected why the provider's usage report was not believed (a rule of {@code
 *     UsageBounds}, e.g. {@code completion_above_output_limit}), or null
 * @param completionFromBytes whether {@code completionTokensCounted} includes an estimate from the
 *     size of response bytes the gateway could not read as text (an oversized SSE event, a JSON
 *     answer too large to hold)
 */
public record TokenReport(
    String model,
    Tokenizer tokenizer,
    int promptTokensCounted,
    boolean countExact,
    int requestedOutputTokens,
    @Nullable ProviderUsage reported,
    long completionTokensCounted,
    int responseStatus,
    boolean complete,
    @Nullable String usageRejected,
    boolean completionFromBytes) {

  /** Where a figure comes from. */
  public enum Source {
    /** The provider's usage report: the number to bill. */
    PROVIDER,
    /** Counted by the gateway with the model's own public tokenizer. */
    COUNTED,
    /** Estimated by the gateway: the provider publishes no tokenizer. */
    ESTIMATED,
    /** Estimated by the gateway, at least partly from the size of response bytes it could not read. */
    ESTIMATED_FROM_BYTES,
    /** Nobody knows (no response text and no usage). */
    UNKNOWN;

    /** Lower-case name for metrics and metadata. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public TokenReport {
    requireNonNull(model, "model");
    requireNonNull(tokenizer, "tokenizer");
  }

  /** A report whose usage, if any, was believed and whose completion count read all the text. */
  public TokenReport(
      String model,
      Tokenizer tokenizer,
      int promptTokensCounted,
      boolean countExact,
      int requestedOutputTokens,
      @Nullable ProviderUsage reported,
      long completionTokensCounted,
      int responseStatus,
      boolean complete) {
    this(
        model,
        tokenizer,
        promptTokensCounted,
        countExact,
        requestedOutputTokens,
        reported,
        completionTokensCounted,
        responseStatus,
        complete,
        null,
        false);
  }

  /** Prompt tokens: the provider's when reported, else the gateway's count. */
  public long promptTokens() {
    return reported != null && reported.promptTokens() >= 0
        ? reported.promptTokens()
        : promptTokensCounted;
  }

  public Source promptSource() {
    if (reported != null && reported.promptTokens() >= 0) {
      return Source.PROVIDER;
    }
    return tokenizer.isEstimate() ? Source.ESTIMATED : Source.COUNTED;
  }

  /** Completion tokens: the provider's when reported, else the gateway's count of the response text, else -1. */
  public long completionTokens() {
    if (reported != null && reported.completionTokens() >= 0) {
      return reported.completionTokens();
    }
    return completionTokensCounted;
  }

  public Source completionSource() {
    if (reported != null && reported.completionTokens() >= 0) {
      return Source.PROVIDER;
    }
    if (completionTokensCounted < 0) {
      return Source.UNKNOWN;
    }
    if (completionFromBytes) {
      return Source.ESTIMATED_FROM_BYTES;
    }
    return tokenizer.isEstimate() ? Source.ESTIMATED : Source.COUNTED;
  }

  /** Prompt plus completion as known (the provider's total when it reported one). */
  public long totalTokens() {
    if (reported != null
        && reported.totalTokens() >= 0
        && promptSource() == Source.PROVIDER
        && completionSource() == Source.PROVIDER) {
      return reported.totalTokens();
    }
    return promptTokens() + Math.max(0, completionTokens());
  }
}
