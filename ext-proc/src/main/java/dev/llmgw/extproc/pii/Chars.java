package dev.llmgw.extproc.pii;

/** Character classes shared by the detectors; ASCII-only unless a method says otherwise. */
final class Chars {

  private Chars() {}

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** ASCII or full-width digit (Japanese text writes phone numbers with either). */
  static boolean isDigitLike(char c) {
    return (c >= '0' && c <= '9') || (c >= '\uFF10' && c <= '\uFF19');
  }

  static boolean isUpper(char c) {
    return c >= 'A' && c <= 'Z';
  }

  static boolean isLower(char c) {
    return c >= 'a' && c <= 'z';
  }

  static boolean isLetter(char c) {
    return isUpper(c) || isLower(c);
  }

  static boolean isAlnum(char c) {
    return isLetter(c) || isDigit(c);
  }

  /**
   * Part of an ASCII identifier: a match may not start or end next to one. Non-ASCII characters
   * are boundaries, because Japanese or Chinese text puts numbers right next to words.
   */
  static boolean isWord(char c) {
    return isAlnum(c) || c == '_';
  }

  static boolean isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** Characters of base64url, as used by JWTs and many API keys. */
  static boolean isBase64Url(char c) {
    return isAlnum(c) || c == '-' || c == '_';
  }

  /** Chinese, Japanese or Korean script, written without spaces between words and values. */
  static boolean isCjk(char c) {
    if (c < 0x1100) {
      return false;
    }
    Character.UnicodeScript script = Character.UnicodeScript.of(c);
    return script == Character.UnicodeScript.HAN
        || script == Character.UnicodeScript.HIRAGANA
        || script == Character.UnicodeScript.KATAKANA
        || script == Character.UnicodeScript.HANGUL;
  }

  static boolean isWordAt(String s, int i) {
    return i >= 0 && i < s.length() && isWord(s.charAt(i));
  }

  static char at(String s, int i) {
    return i >= 0 && i < s.length() ? s.charAt(i) : '\0';
  }
}
