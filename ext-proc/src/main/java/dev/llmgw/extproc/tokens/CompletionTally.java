package dev.llmgw.extproc.tokens;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Counts response text as it streams, in bounded memory. Each text (a choice's content, one tool
 * call's arguments, ...) has its own slot; a slot's text is tokenized in pieces cut only where the
 * tokenizer's pre-tokenization splits anyway (before a single space between two non-space
 * characters, or after a newline followed by a non-space character other than '/'), so the sum of
 * the pieces equals the count of the whole text. A slot that grows past {@link #HARD_LIMIT}
 * characters without such a place is counted as it is, and the total becomes approximate.
 */
final class CompletionTally {

  /** A slot's text is counted once it is this long (at the last safe cut). */
  static final int FLUSH_AT = 4096;
  /** Longest text kept without a safe cut. */
  static final int HARD_LIMIT = 64 * 1024;
  /** Most texts tracked at once; further slots are counted piece by piece. */
  static final int MAX_SLOTS = 32;

  private final Tokenizer tokenizer;
  private final Map<Long, StringBuilder> open = new HashMap<>(4);
  private long tokens;
  private long estimateChars;
  private boolean seen;
  private boolean approximate;

  CompletionTally(Tokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /** Appends {@code text} to slot {@code slot}. */
  void add(long slot, @Nullable String text) {
    if (text == null || text.isEmpty()) {
      return;
    }
    seen = true;
    if (tokenizer.isEstimate()) {
      estimateChars += text.codePointCount(0, text.length());
      return;
    }
    StringBuilder buffer = open.get(slot);
    if (buffer == null) {
      if (open.size() >= MAX_SLOTS) {
        approximate = true;
        tokens += tokenizer.count(text);
        return;
      }
      buffer = new StringBuilder(Math.max(64, text.length()));
      open.put(slot, buffer);
    }
    buffer.append(text);
    if (buffer.length() >= FLUSH_AT) {
      flushSafePrefix(buffer);
    }
  }

  /** Counts a text that arrives whole (a tool name), on its own. */
  void addWhole(@Nullable String text) {
    if (text == null || text.isEmpty()) {
      return;
    }
    seen = true;
    if (tokenizer.isEstimate()) {
      estimateChars += text.codePointCount(0, text.length());
    } else {
      tokens += tokenizer.count(text);
    }
  }

  /** Whether any response text was seen. */
  boolean seen() {
    return seen;
  }

  /** Whether a piece had to be cut where the count may differ from the whole text's. */
  boolean approximate() {
    return approximate;
  }

  /** Tokens of all text so far; counts and releases the open slots. */
  long total() {
    for (StringBuilder buffer : open.values()) {
      tokens += tokenizer.count(buffer.toString());
    }
    open.clear();
    return tokens + (estimateChars == 0 ? 0 : Tokenizer.estimate(estimateChars));
  }

  private void flushSafePrefix(StringBuilder buffer) {
    int cut = lastSafeCut(buffer);
    if (cut <= 0) {
      if (buffer.length() < HARD_LIMIT) {
        return;
      }
      cut = buffer.length();
      approximate = true;
    }
    tokens += tokenizer.count(buffer.substring(0, cut));
    buffer.delete(0, cut);
  }

  /** The last index where the text can be cut without changing its token count, or -1. */
  static int lastSafeCut(CharSequence s) {
    for (int i = s.length() - 2; i > 0; i--) {
      char c = s.charAt(i);
      char before = s.charAt(i - 1);
      char after = s.charAt(i + 1);
      if (c == ' ' && !isSpace(before) && !isSpace(after)) {
        return i;
      }
      if (before == '\n' && !isSpace(c) && c != '/') {
        return i;
      }
    }
    return -1;
  }

  /** Whitespace as the tokenizers' {@code \s} sees it, including no-break spaces. */
  private static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c);
  }
}
