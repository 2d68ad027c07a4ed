package dev.llmgw.extproc.pii;

import org.apache.commons.validator.routines.InetAddressValidator;

/**
 * IPv6 addresses around a ":" that has hex digits or another ":" next to it: full, compressed
 * ("::") and IPv4-mapped forms that InetAddressValidator accepts. An address must have at least
 * two non-empty groups and a decimal digit, so "::", "::1" and the scope operator of code ("a::b"
 * is a valid address; "std::vector" is also glued to letters) are not reported.
 */
final class Ipv6Detector {

  private static final int MAX_LENGTH = 45;

  private Ipv6Detector() {}

  /** Whether the colon at {@code i} may belong to an address; cheap, called for every colon. */
  static boolean trigger(String s, int i) {
    char next = Chars.at(s, i + 1);
    if (!Chars.isHex(next) && next != ':') {
      return false;
    }
    char prev = Chars.at(s, i - 1);
    return Chars.isHex(prev) || prev == ':' || !Chars.isWord(prev);
  }

  /** Tries an address around the colon at {@code i}; returns the index to continue after. */
  static int at(String s, int i, Findings out) {
    int a = i;
    while (a > 0 && i - a < MAX_LENGTH && isAddressChar(s.charAt(a - 1))) {
      a--;
    }
    int n = s.length();
    int b = i + 1;
    while (b < n && b - a < MAX_LENGTH + 1 && isAddressChar(s.charAt(b))) {
      b++;
    }
    int end = b;
    while (b > i + 1 && s.charAt(b - 1) == '.') {
      b--; // sentence end
    }
    if (Chars.isWordAt(s, a - 1) || Chars.at(s, a - 1) == '.' || Chars.isWordAt(s, b) || b - a < 3) {
      return end;
    }
    int colons = 0;
    int groups = 0;
    boolean inGroup = false;
    boolean digit = false;
    for (int k = a; k < b; k++) {
      char c = s.charAt(k);
      digit |= Chars.isDigit(c);
      if (c == ':') {
        colons++;
        inGroup = false;
      } else if (!inGroup) {
        groups++;
        inGroup = true;
      }
    }
    if (colons >= 2 && groups >= 2 && digit && InetAddressValidator.getInstance().isValidInet6Address(s.substring(a, b))) {
      out.add(EntityType.IP_ADDRESS, a, b);
    }
    return end;
  }

  private static boolean isAddressChar(char c) {
    return Chars.isHex(c) || c == ':' || c == '.';
  }
}
