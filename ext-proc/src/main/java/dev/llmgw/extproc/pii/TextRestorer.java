package dev.llmgw.extproc.pii;

/**
 * Restores placeholders in one stream of text that arrives in pieces (one SSE delta field).
 *
 * <p>Complete placeholders are replaced as soon as they are seen. When a piece ends with the start
 * of a placeholder ({@code "...write to <EMA"}), only that start is held back, and only while it can
 * still become one of this exchange's placeholders: the hold-back never exceeds the longest
 * placeholder, and text that cannot be a placeholder is never held.
 */
final class TextRestorer {

  private final Vault vault;
  private final boolean jsonFragment;
  private String held = "";
  private int restored;

  /**
   * @param jsonFragment the text is a fragment of JSON (tool-call arguments), so restored values are
   *     JSON-string escaped
   */
  TextRestorer(Vault vault, boolean jsonFragment) {
    this.vault = vault;
    this.jsonFragment = jsonFragment;
  }

  /** The text to emit now for {@code piece}; a trailing placeholder start is kept for the next piece. */
  String push(String piece) {
    String text = held.isEmpty() ? piece : held + piece;
    held = "";
    int lt = text.indexOf('<');
    if (lt < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 32);
    int from = 0;
    while (lt >= 0) {
      out.append(text, from, lt);
      int gt = text.indexOf('>', lt + 1);
      if (gt >= 0 && gt - lt < vault.maxLength()) {
        String value = vault.original(text.substring(lt, gt + 1));
        if (value != null) {
          out.append(jsonFragment ? escapeJson(value) : value);
          restored++;
          from = gt + 1;
          lt = text.indexOf('<', from);
          continue;
        }
      } else if (gt < 0 && vault.isPrefixOfPlaceholder(text.substring(lt))) {
        held = text.substring(lt);
        return out.toString();
      }
      out.append('<');
      from = lt + 1;
      lt = text.indexOf('<', from);
    }
    out.append(text, from, text.length());
    return out.toString();
  }

  /** Text held back, released as it is because the stream (or this field) ended. */
  String flush() {
    String out = held;
    held = "";
    return out;
  }

  boolean holding() {
    return !held.isEmpty();
  }

  int restored() {
    return restored;
  }

  /** Restores every complete placeholder in a text that is whole (no hold-back). */
  static String restoreAll(Vault vault, String text, boolean jsonFragment) {
    if (text.indexOf('<') < 0) {
      return text;
    }
    TextRestorer r = new TextRestorer(vault, jsonFragment);
    return r.push(text) + r.flush();
  }

  /** The characters of {@code value} as they appear inside a JSON string literal. */
  static String escapeJson(String value) {
    StringBuilder b = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
