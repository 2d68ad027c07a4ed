package dev.llmgw.extproc.pii;

import java.util.Arrays;
import org.apache.commons.validator.routines.InetAddressValidator;
import org.apache.commons.validator.routines.checkdigit.LuhnCheckDigit;
import org.jspecify.annotations.Nullable;

/**
 * Digit clusters: runs of digits joined by short separators (space, "-", ".", "/", parentheses),
 * examined as IPv4 addresses, US SSNs, card numbers and phone numbers. The scanner hands over every
 * digit that starts a token; a cluster with fewer than 7 digits and fewer than three dots is
 * dropped after one pass over its characters, which is what keeps ordinary prose fast.
 */
final class NumberDetector {

  private static final int MAX_SEPARATOR = 3;
  /** Clusters longer than this are tables of numbers, not one phone number. */
  private static final int MAX_PHONE_DIGITS = 40;

  private final boolean ip;
  private final boolean ssn;
  private final boolean card;
  private final @Nullable PhoneDetector phones;

  NumberDetector(boolean ip, boolean ssn, boolean card, @Nullable PhoneDetector phones) {
    this.ip = ip;
    this.ssn = ssn;
    this.card = card;
    this.phones = phones;
  }

  /**
   * Examines the cluster whose first digit is at {@code i} (a token start: the character before is
   * not a letter, digit or "_") and returns the index of its last character.
   */
  int scan(String s, int i, Findings out) {
    int n = s.length();
    int j = i;
    int digits = 0;
    int dots = 0;
    int end;
    while (true) {
      while (j < n && Chars.isDigitLike(s.charAt(j))) {
        j++;
        digits++;
      }
      end = j;
      int k = j;
      while (k < n && k - j < MAX_SEPARATOR && isSeparator(s.charAt(k))) {
        k++;
      }
      if (k == j || k >= n || !Chars.isDigitLike(s.charAt(k))) {
        break;
      }
      if (k == j + 1 && s.charAt(j) == '.') {
        dots++;
      }
      j = k;
    }
    if (digits >= 7 || (digits >= 4 && dots >= 3 && ip)) {
      analyse(s, i, end, digits, out);
    }
    return end - 1;
  }

  private static boolean isSeparator(char c) {
    return c == ' '
        || c == '-'
        || c == '.'
        || c == '/'
        || c == '('
        || c == ')'
        || c == '\u00A0'
        || (c >= '\u2010' && c <= '\u2015')
        || c == '\u3000'
        || c == '\uFF0D'
        || c == '（'
        || c == '）';
  }

  private void analyse(String s, int first, int end, int digits, Findings out) {
    int start = first;
    if (Chars.at(s, start - 1) == '(') {
      start--;
    }
    if (Chars.at(s, start - 1) == '+') {
      start--;
    }
    if (glued(s, start, end)) {
      return;
    }
    Groups g = Groups.of(s, first, end);
    int foundBefore = out.size();
    if (ip && !g.nonAscii) {
      ipv4(s, g, start, out);
    }
    if (digits < 7 || g.nonAscii) {
      if (phones != null && digits >= 7) {
        phone(phones, s, g, start, end, digits, foundBefore, out);
      }
      return;
    }
    if (ssn && digits >= 9) {
      ssn(s, g, start, digits, out);
    }
    if (card && digits >= 13) {
      cards(s, g, start, out);
    }
    if (phones != null) {
      phone(phones, s, g, start, end, digits, foundBefore, out);
    }
  }

  /**
   * Whether the cluster is part of a longer token: glued to a letter ("12345678px", a timestamp's
   * "T"), to a suffix ("2.10.0.1-beta", "123-45-6789.txt"), or continuing one ("v1.2.3.4.5" after
   * its "v1.", a UUID's last group, "/orders/4532118822"), or an amount of money.
   */
  private static boolean glued(String s, int start, int end) {
    char after = Chars.at(s, end);
    if (Chars.isWord(after)) {
      return true;
    }
    if ((after == '-' || after == '.' || after == '_' || after == '/')
        && Chars.isLetter(Chars.at(s, end + 1))) {
      return true;
    }
    char before = Chars.at(s, start - 1);
    if (Chars.isWord(before)) {
      return true;
    }
    if ((before == '-' || before == '.' || before == '/' || before == '_' || before == '\\')
        && Chars.isWord(Chars.at(s, start - 2))) {
      return true; // but "id:123" and "tel:+1..." are fine: a colon after a word ends a label
    }
    return before == '$' || before == '€' || before == '£' || before == '¥' || before == '₹';
  }

  // ---------------------------------------------------------------- IPv4

  /** Runs of exactly four dot-joined groups; five or more ("1.2.3.4.5") are version or OID strings. */
  private static void ipv4(String s, Groups g, int clusterStart, Findings out) {
    int x = 0;
    while (x < g.count) {
      int y = x;
      while (y + 1 < g.count && g.separatorIs(y, '.')) {
        y++;
      }
      if (y - x == 3 && validIpv4(s, g, x, y)) {
        int from = g.start[x];
        if (!Labels.versionBefore(s, x == 0 ? clusterStart : from)) {
          out.add(EntityType.IP_ADDRESS, from, g.end[y]);
        }
      }
      x = y + 1;
    }
  }

  private static boolean validIpv4(String s, Groups g, int x, int y) {
    for (int k = x; k <= y; k++) {
      if (g.length(k) > 3) {
        return false;
      }
    }
    return InetAddressValidator.getInstance()
        .isValidInet4Address(s.substring(g.start[x], g.end[y]));
  }

  // ---------------------------------------------------------------- US SSN

  /**
   * AAA-GG-SSSS with dashes, AAA GG SSSS with spaces (the whole cluster), or nine bare digits after
   * a word like "SSN"; numbers the SSA never issues are rejected.
   */
  private static void ssn(String s, Groups g, int clusterStart, int digits, Findings out) {
    for (int x = 0; x + 2 < g.count; x++) {
      if (g.length(x) != 3 || g.length(x + 1) != 2 || g.length(x + 2) != 4) {
        continue;
      }
      boolean dashed = g.separatorIs(x, '-')
          && g.separatorIs(x + 1, '-')
          && (x == 0 || !g.separatorContains(x - 1, '-'))
          && (x + 2 == g.count - 1 || !g.separatorContains(x + 2, '-'));
      boolean spaced = g.separatorIs(x, ' ')
          && g.separatorIs(x + 1, ' ')
          && x == 0
          && g.count == 3
          && clusterStart == g.start[0];
      if ((dashed || spaced)
          && issuable(s, g.start[x], g.start[x + 1], g.start[x + 2])
          && !Labels.identifierBefore(s, g.start[x], Labels.SSN_WORDS)) {
        out.add(EntityType.US_SSN, g.start[x], g.end[x + 2]);
        return;
      }
    }
    if (g.count == 1
        && digits == 9
        && clusterStart == g.start[0]
        && issuable(s, g.start[0], g.start[0] + 3, g.start[0] + 5)
        && Labels.ssnContextBefore(s, g.start[0])) {
      out.add(EntityType.US_SSN, g.start[0], g.end[0]);
    }
  }

  /** The SSA's rules: no area 000, 666 or 900-999, no group 00, no serial 0000, no advertised numbers. */
  private static boolean issuable(String s, int area, int group, int serial) {
    int a = number(s, area, 3);
    int gr = number(s, group, 2);
    int se = number(s, serial, 4);
    if (a == 0 || a == 666 || a >= 900 || gr == 0 || se == 0) {
      return false;
    }
    return !(a == 78 && gr == 5 && se == 1120) && !(a == 219 && gr == 9 && se == 9999);
  }

  private static int number(String s, int from, int length) {
    int v = 0;
    for (int k = from; k < from + length; k++) {
      v = v * 10 + (s.charAt(k) - '0');
    }
    return v;
  }

  // ---------------------------------------------------------------- cards

  /**
   * 13 to 19 digits written as one block, or in groups of four joined by single spaces or dashes
   * (the last group shorter), or Amex/Diners style 4-6-5 and 4-6-4; Luhn-valid and with a known
   * issuer prefix.
   */
  private static void cards(String s, Groups g, int clusterStart, Findings out) {
    int x = 0;
    while (x < g.count) {
      int best = -1;
      int len = g.length(x);
      if (len >= 13 && len <= 19) {
        boolean alone =
            (x == 0 || !g.separatorIsTight(x - 1)) && (x == g.count - 1 || !g.separatorIsTight(x));
        if (alone && validCard(s.substring(g.start[x], g.end[x]))) {
          best = x;
        }
      } else if (len == 4 && x + 1 < g.count && g.separatorLength(x) == 1) {
        char sep = s.charAt(g.end[x]);
        if (sep == ' ' || sep == '-') {
          StringBuilder number = new StringBuilder(19).append(s, g.start[x], g.end[x]);
          for (int y = x + 1; y < g.count && g.separatorIs(y - 1, sep); y++) {
            number.append(s, g.start[y], g.end[y]);
            if (number.length() > 19) {
              break;
            }
            boolean bounded = sep == ' '
                || (x == 0 || !g.separatorContains(x - 1, '-'))
                    && (y == g.count - 1 || !g.separatorContains(y, '-'));
            if (number.length() >= 13
                && bounded
                && shaped(g, x, y)
                && validCard(number.toString())) {
              best = y;
            }
          }
        }
      }
      if (best >= 0
          && !Labels.identifierBefore(s, x == 0 ? clusterStart : g.start[x], Labels.CARD_WORDS)) {
        out.add(EntityType.CREDIT_CARD, g.start[x], g.end[best]);
        x = best + 1;
      } else {
        x++;
      }
    }
  }

  private static boolean shaped(Groups g, int x, int y) {
    if (y - x == 2 && g.length(x + 1) == 6 && (g.length(y) == 4 || g.length(y) == 5)) {
      return true; // Amex 4-6-5, Diners 4-6-4
    }
    for (int k = x; k < y; k++) {
      if (g.length(k) != 4) {
        return false;
      }
    }
    return g.length(y) <= 4;
  }

  private static boolean validCard(String digits) {
    return knownIssuer(digits) && LuhnCheckDigit.LUHN_CHECK_DIGIT.isValid(digits);
  }

  /** Issuer identification number ranges and lengths of the networks we recognise. */
  private static boolean knownIssuer(String d) {
    int len = d.length();
    int p2 = Integer.parseInt(d.substring(0, 2));
    int p3 = Integer.parseInt(d.substring(0, 3));
    int p4 = Integer.parseInt(d.substring(0, 4));
    int p6 = Integer.parseInt(d.substring(0, 6));
    if (d.charAt(0) == '4') {
      return len == 13 || len == 16 || len == 19; // Visa
    }
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) {
      return len == 16; // Mastercard
    }
    if (p2 == 34 || p2 == 37) {
      return len == 15; // American Express
    }
    boolean sixteenUp = len >= 16 && len <= 19;
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) {
      return sixteenUp; // Discover (and UnionPay co-branded)
    }
    if (p4 >= 3528 && p4 <= 3589) {
      return sixteenUp; // JCB
    }
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) {
      return len >= 14 && len <= 19; // Diners Club
    }
    if (p2 == 62) {
      return sixteenUp; // UnionPay
    }
    if (Arrays.binarySearch(MAESTRO, p4) >= 0) {
      return len >= 12; // Maestro
    }
    return false;
  }

  private static final int[] MAESTRO = {5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763};

  // ---------------------------------------------------------------- phone

  /**
   * Hands the cluster to libphonenumber unless its shape or its label says it is something else:
   * a date, an SSN-shaped number, a list of small numbers, a dotted version or decimal, a number
   * after "#" or an identifier label, or a bare run of digits without a phone label ("4532118822"
   * is far more often an order id or a timestamp than a phone number).
   */
  private static void phone(
      PhoneDetector phones,
      String s,
      Groups g,
      int start,
      int end,
      int digits,
      int foundBefore,
      Findings out) {
    if (digits > MAX_PHONE_DIGITS || out.size() > foundBefore) {
      return; // a card, SSN or IP address explains this cluster
    }
    boolean international = s.charAt(start) == '+';
    if (g.allSeparatorsAre('.') && !g.allLengthsBetween(international ? 1 : 0, 2, 4)) {
      return; // "10.0.19045.3803", "3.14159265": versions and decimals, not "415.555.0132"
    }
    if (g.count == 3
        && g.length(0) == 3
        && g.length(1) == 2
        && g.length(2) == 4
        && !international) {
      return; // SSN-shaped, even when not issuable
    }
    if (!international && g.count >= 6 && g.allLengthsBetween(0, 1, 2)) {
      return; // "04 15 23 42 08 16": a list of small numbers
    }
    if (containsDate(s, g)) {
      return;
    }
    if (Labels.hashBefore(s, start) || Labels.identifierBefore(s, start, Labels.PHONE_WORDS)) {
      return;
    }
    if (g.count == 1 && !international && !Labels.phoneContextBefore(s, start)) {
      return;
    }
    phones.find(s, start, end, digits, out);
  }

  /** Whether three groups read as a date: 2024-05-01, 2024/5/1, 01.05.2024, 05/01/2024. */
  private static boolean containsDate(String s, Groups g) {
    for (int x = 0; x + 2 < g.count; x++) {
      if (g.separatorLength(x) != 1
          || g.separatorLength(x + 1) != 1
          || s.charAt(g.end[x]) != s.charAt(g.end[x + 1])
          || "-./".indexOf(s.charAt(g.end[x])) < 0) {
        continue;
      }
      int a = g.length(x);
      int b = g.length(x + 1);
      int c = g.length(x + 2);
      if (a == 4
          && isYear(s, g.start[x])
          && b <= 2
          && c <= 2
          && value(s, g, x + 1) <= 12
          && value(s, g, x + 2) <= 31) {
        return true;
      }
      if (c == 4
          && isYear(s, g.start[x + 2])
          && a <= 2
          && b <= 2
          && value(s, g, x) <= 31
          && value(s, g, x + 1) <= 31
          && (value(s, g, x) <= 12 || value(s, g, x + 1) <= 12)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isYear(String s, int at) {
    return (s.charAt(at) == '1' && s.charAt(at + 1) == '9')
        || (s.charAt(at) == '2' && s.charAt(at + 1) == '0');
  }

  private static int value(String s, Groups g, int x) {
    return number(s, g.start[x], g.length(x));
  }

  // ---------------------------------------------------------------- groups

  /** The digit groups of one cluster and the separators between them. */
  private static final class Groups {
    int[] start = new int[8];
    int[] end = new int[8];
    int count;
    boolean nonAscii;
    private final String s;

    private Groups(String s) {
      this.s = s;
    }

    static Groups of(String s, int from, int to) {
      Groups g = new Groups(s);
      int j = from;
      while (j < to) {
        int a = j;
        while (j < to && Chars.isDigitLike(s.charAt(j))) {
          g.nonAscii |= s.charAt(j) > '9';
          j++;
        }
        g.add(a, j);
        while (j < to && !Chars.isDigitLike(s.charAt(j))) {
          j++;
        }
      }
      return g;
    }

    private void add(int a, int b) {
      if (count == start.length) {
        start = Arrays.copyOf(start, count * 2);
        end = Arrays.copyOf(end, count * 2);
      }
      start[count] = a;
      end[count] = b;
      count++;
    }

    int length(int x) {
      return end[x] - start[x];
    }

    int separatorLength(int x) {
      return start[x + 1] - end[x];
    }

    /** Whether the separator after group {@code x} is exactly {@code c}. */
    boolean separatorIs(int x, char c) {
      return separatorLength(x) == 1 && s.charAt(end[x]) == c;
    }

    boolean separatorContains(int x, char c) {
      for (int k = end[x]; k < start[x + 1]; k++) {
        if (s.charAt(k) == c) {
          return true;
        }
      }
      return false;
    }

    /** A single "-" or "." binds two groups into one token; spaces do not. */
    boolean separatorIsTight(int x) {
      return separatorIs(x, '-') || separatorIs(x, '.') || separatorIs(x, '/');
    }

    boolean allSeparatorsAre(char c) {
      for (int x = 0; x + 1 < count; x++) {
        if (!separatorIs(x, c)) {
          return false;
        }
      }
      return count > 1;
    }

    /** Whether groups {@code from} to the last are {@code min} to {@code max} digits long. */
    boolean allLengthsBetween(int from, int min, int max) {
      for (int x = from; x < count; x++) {
        if (length(x) < min || length(x) > max) {
          return false;
        }
      }
      return true;
    }
  }
}
