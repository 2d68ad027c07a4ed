package dev.llmgw.extproc.pii;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One exchange's placeholder mapping: which placeholder stands for which original value. It lives
 * only in the stream's memory and is dropped with it; nothing here is ever logged or exported.
 *
 * <p>The same value always gets the same placeholder, so the model sees that two mentions are one
 * person. Placeholder numbers skip any placeholder text the request already contains, so a client's
 * literal {@code <EMAIL_1>} is never mistaken for one of ours.
 */
final class Vault {

  /** Placeholder-shaped text ({@code <WORD_n>}) the client's request already contains. */
  private final Set<String> taken;

  private final Map<String, String> placeholderByValue = new HashMap<>();
  private final Map<String, String> valueByPlaceholder = new HashMap<>();
  private final EnumMap<EntityType, Integer> counters = new EnumMap<>(EntityType.class);
  private int maxLength;

  /** @param request the request body as the client sent it (UTF-8), to avoid placeholders it already contains */
  Vault(byte[] request) {
    this.taken = placeholdersIn(request);
  }

  /** A vault for an exchange whose request was not scanned. */
  static Vault empty() {
    return new Vault(new byte[0]);
  }

  /**
   * Every {@code <UPPER_n>} in the body, in one pass over its bytes (placeholders are ASCII, so no
   * decoding is needed; a multi-byte UTF-8 sequence never contains these bytes).
   */
  static Set<String> placeholdersIn(byte[] body) {
    Set<String> found = new HashSet<>();
    for (int i = 0; i < body.length; i++) {
      if (body[i] != '<') {
        continue;
      }
      int j = i + 1;
      while (j < body.length
          && ((body[j] >= 'A' && body[j] <= 'Z')
              || body[j] == '_'
              || (body[j] >= '0' && body[j] <= '9'))) {
        j++;
      }
      if (j < body.length && body[j] == '>' && j > i + 1) {
        found.add(new String(body, i, j + 1 - i, java.nio.charset.StandardCharsets.US_ASCII));
      }
    }
    return found;
  }

  String mask(EntityType type, String value) {
    String key = type.name() + '\u0000' + value;
    String existing = placeholderByValue.get(key);
    if (existing != null) {
      return existing;
    }
    String placeholder;
    int n = counters.getOrDefault(type, 0);
    do {
      n++;
      placeholder = "<" + type.name() + "_" + n + ">";
    } while (taken.contains(placeholder));
    counters.put(type, n);
    placeholderByValue.put(key, placeholder);
    valueByPlaceholder.put(placeholder, value);
    maxLength = Math.max(maxLength, placeholder.length());
    return placeholder;
  }

  /** The original value of {@code placeholder}, or null when it is not one of this exchange's. */
  @Nullable
  String original(String placeholder) {
    return valueByPlaceholder.get(placeholder);
  }

  /** Whether some placeholder starts with {@code text} (a placeholder cut off by the end of a chunk). */
  boolean isPrefixOfPlaceholder(CharSequence text) {
    if (text.length() >= maxLength) {
      return false;
    }
    for (String p : valueByPlaceholder.keySet()) {
      if (p.length() > text.length() && p.regionMatches(0, text.toString(), 0, text.length())) {
        return true;
      }
    }
    return false;
  }

  /** Length of the longest placeholder: the most any stream is ever held back by. */
  int maxLength() {
    return maxLength;
  }

  boolean isEmpty() {
    return valueByPlaceholder.isEmpty();
  }

  int size() {
    return valueByPlaceholder.size();
  }

  void clear() {
    placeholderByValue.clear();
    valueByPlaceholder.clear();
  }
}
