package dev.llmgw.extproc.tokens;

import org.jspecify.annotations.Nullable;

/**
 * Running count of one prompt: exact tokens from the tokenizer plus, for {@link Tokenizer#ESTIMATE},
 * the characters that are turned into an estimate once at the end (so rounding happens once).
 */
final class Tally {

  final Tokenizer tokenizer;
  private long tokens;
  private long estimateChars;
  private boolean exact;

  Tally(Tokenizer tokenizer, boolean exact) {
    this.tokenizer = tokenizer;
    this.exact = exact && !tokenizer.isEstimate();
  }

  /** Adds {@code text}'s tokens and returns them (0 for the estimate, whose characters are summed). */
  int text(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    if (tokenizer.isEstimate()) {
      estimateChars += text.codePointCount(0, text.length());
      return 0;
    }
    int n = tokenizer.count(text);
    tokens += n;
    return n;
  }

  /** Tokens of {@code text} without adding them. */
  int measure(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    return tokenizer.isEstimate()
        ? Tokenizer.estimate(text.codePointCount(0, text.length()))
        : tokenizer.count(text);
  }

  /** Format tokens a published rule adds (may be negative: the rules subtract overlaps). */
  void fixed(int n) {
    tokens += n;
  }

  /** Part of the prompt has no published counting rule; the count becomes a lower bound. */
  void inexact() {
    exact = false;
  }

  boolean exact() {
    return exact;
  }

  int total() {
    long t = tokens + (estimateChars == 0 ? 0 : Tokenizer.estimate(estimateChars));
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, t));
  }
}
