package dev.llmgw.controlplane.mockprovider;

import java.util.ArrayList;
import java.util.List;

/**
 * Deterministic token counts and text chunks. Roughly four characters a token, as the providers'
 * own rule of thumb, so cost and budget tests see plausible numbers that do not change between runs.
 */
final class Tokens {

  private Tokens() {}

  /** Tokens of a generated text: ceil(characters / 4), at least 1. */
  static int of(String text) {
    return Math.max(1, ceilQuarter(text.codePointCount(0, text.length())));
  }

  /** Tokens of a prompt: ceil(characters / 4) of all its texts plus 3 per message, at least 1. */
  static int prompt(int characters, int messages) {
    return Math.max(1, ceilQuarter(characters) + 3 * messages);
  }

  /** Characters as a client counts them: code points, so an emoji is one. */
  static int characters(String text) {
    return text.codePointCount(0, text.length());
  }

  /**
   * Splits text into pieces of {@code size} code points. Never splits a surrogate pair, so every
   * piece is valid UTF-8 on the wire and the pieces concatenate to the text byte for byte.
   */
  static List<String> chunks(String text, int size) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int end =
          text.offsetByCodePoints(start, Math.min(size, text.codePointCount(start, text.length())));
      pieces.add(text.substring(start, end));
      start = end;
    }
    return pieces;
  }

  private static int ceilQuarter(int characters) {
    return (characters + 3) / 4;
  }
}
