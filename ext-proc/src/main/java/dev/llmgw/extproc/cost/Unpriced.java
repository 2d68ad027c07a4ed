package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * An exchange the gateway did not put a price on, and why. The gateway never guesses a price: an
 * exchange it cannot price exactly or estimate from known rates has no cost rather than a wrong one.
 *
 * @param reason the kind of reason, bounded (a metric tag)
 * @param detail the reason in words, with the model name and figures (for logs, not metrics)
 */
public record Unpriced(Reason reason, String detail) implements CostResult {

  /** Why an exchange has no cost. */
  public enum Reason {
    /** The price catalog lists neither the model nor its snapshot-less name. */
    UNKNOWN_MODEL,
    /** The upstream answered with an error status and reported no usage: nothing known to bill. */
    UPSTREAM_ERROR,
    /** Output tokens were reported for a model the catalog gives no output rate (an embeddings model). */
    NO_OUTPUT_PRICE,
    /** Neither the provider nor the gateway knows the prompt's size. */
    NO_PROMPT_COUNT;

    /** Lower-case name for metrics. */
    public String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Unpriced {
    requireNonNull(reason, "reason");
    requireNonNull(detail, "detail");
  }
}
