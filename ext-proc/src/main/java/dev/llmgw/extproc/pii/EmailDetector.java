package dev.llmgw.extproc.pii;

import org.apache.commons.validator.routines.EmailValidator;

/**
 * E-mail addresses around an "@" (or its URL encoding "%40"): an ASCII local part of letters,
 * digits and {@code . _ + -}, and
 * a domain (internationalised names allowed) that commons-validator accepts, which means its
 * top-level domain must be in IANA's list ({@code localhost}, {@code icon@2x.png} and
 * {@code user@host} are not addresses).
 */
final class EmailDetector {

  private static final EmailValidator VALIDATOR = EmailValidator.getInstance(false, false);
  private static final int MAX_LOCAL = 64;
  private static final int MAX_DOMAIN = 253;

  private EmailDetector() {}

  /**
   * Tries an address around the "@" at {@code at}, or around a URL-encoded "%40" when
   * {@code encoded}; returns its end or -1. The local part never reaches back into an earlier
   * finding ("https://ghp_...@github.com" is a token, not an address).
   */
  static int at(String s, int at, boolean encoded, Findings out) {
    int a = at;
    int floor = out.maxEnd();
    while (a > floor && at - a < MAX_LOCAL && isLocal(s.charAt(a - 1))) {
      a--;
    }
    while (a < at && s.charAt(a) == '.') {
      a++;
    }
    char before = Chars.at(s, a - 1);
    if (a == at
        || a == floor && floor > 0
        || (Character.isLetterOrDigit(before) && !Chars.isCjk(before))
        || userInfo(s, a)) {
      return -1; // half an address ("müller@..." has a non-ASCII local part) or
      // "https://user:password@host"
    }
    int n = s.length();
    int domain = at + (encoded ? 3 : 1);
    int b = domain;
    int ascii = -1; // end of the ASCII-only prefix of the domain
    while (b < n && b - domain < MAX_DOMAIN && isDomain(s.charAt(b))) {
      if (ascii < 0 && s.charAt(b) >= 0x80) {
        ascii = b;
      }
      b++;
    }
    int end = valid(s, a, at, domain, b);
    if (end < 0 && ascii > 0) {
      end = valid(
          s, a, at, domain,
          ascii); // "taro@example.jpまで": the Japanese text is not part of the domain
    }
    if (end < 0) {
      return -1;
    }
    char after = Chars.at(s, end);
    char next = Chars.at(s, end + 1);
    if (after == ':' && (Chars.isWord(next) || next == '/' || next == '~')) {
      return -1; // "git@github.com:org/repo.git" is an SSH location, not a mailbox
    }
    out.add(EntityType.EMAIL, a, end);
    return end;
  }

  private static int valid(String s, int a, int at, int domain, int b) {
    while (b > domain && (s.charAt(b - 1) == '.' || s.charAt(b - 1) == '-')) {
      b--; // sentence punctuation after the address
    }
    if (b == domain || !VALIDATOR.isValid(s.substring(a, at) + '@' + s.substring(domain, b))) {
      return -1;
    }
    return b;
  }

  /** Whether the local part starting at {@code a} is the user-info of a URL ("scheme://user:pass@"). */
  private static boolean userInfo(String s, int a) {
    if (Chars.at(s, a - 1) != ':') {
      return false;
    }
    for (int k = a - 2; k >= 2 && k > a - 128; k--) {
      char c = s.charAt(k);
      if (c == '/' && s.charAt(k - 1) == '/' && s.charAt(k - 2) == ':') {
        return true;
      }
      if (Character.isWhitespace(c) || c == '"' || c == '\'' || c == '<' || c == '(') {
        return false;
      }
    }
    return false;
  }

  private static boolean isLocal(char c) {
    return Chars.isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
  }

  private static boolean isDomain(char c) {
    return Chars.isAlnum(c) || c == '.' || c == '-' || (c >= 0x80 && Character.isLetterOrDigit(c));
  }
}
