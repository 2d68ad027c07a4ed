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

  /**
   * Tries an address around the colon at {@code i}; returns its end, or {@code i + 1} when there is
   * none, so that "time:10.0.0.1" still reaches the IPv4 detector.
   */
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
    while (b > i + 1 && s.charAt(b - 1) == '.') {
      b--; // sentence end
    }
    if (Chars.isWordAt(s, a - 1)
        || Chars.at(s, a - 1) == '.'
        || Chars.isWordAt(s, b)
        || b - a < 3) {
      return i + 1;
    }
    int colons = 0;
    int groups = 0;
    boolean inGroup = false;
    boolean digit = false;
    boolean dot = false;
    boolean compressed = false;
    for (int k = a; k < b; k++) {
      char c = s.charAt(k);
      digit |= Chars.isDigit(c);
      dot |= c == '.';
      if (c == ':') {
        compressed |= k > a && s.charAt(k - 1) == ':';
        colons++;
        inGroup = false;
      } else if (!inGroup) {
        groups++;
        inGroup = true;
      }
    }
    // full (seven colons), compressed ("::") or full with an IPv4 tail (six colons); "3:42:17" is
    // none
    boolean shaped = compressed || colons == 7 || (colons == 6 && dot);
    if (shaped
        && groups >= 2
        && digit
        && InetAddressValidator.getInstance().isValidInet6Address(s.substring(a, b))) {
      out.add(EntityType.IP_ADDRESS, a, b);
      return b;
    }
    return i + 1;
  }

  private static boolean isAddressChar(char c) {
    return Chars.isHex(c) || c == ':' || c == '.';
  }
}
