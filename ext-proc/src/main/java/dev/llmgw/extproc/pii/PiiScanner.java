package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Finds personal data and secrets in text on the request path. One hand-written pass over the
 * characters looks for cheap triggers (a digit starting a token, an "@", a ":" next to hex digits,
 * the first letters of known key prefixes); only then do the precise validators run, on a small
 * window. Text without triggers therefore costs little more than reading it.
 *
 * <p>Instances are immutable and thread-safe; a scan keeps its state on the stack. Findings carry
 * offsets only, never the matched text. See docs/pii.md for what each type matches and why.
 */
public final class PiiScanner {

  private static final byte NONE = 0;
  private static final byte DIGIT = 1;
  private static final byte AT = 2;
  private static final byte COLON = 3;
  private static final byte SECRET_START = 4;
  private static final byte PERCENT = 5;

  private static final PiiScanner STANDARD = new PiiScanner(EnumSet.allOf(EntityType.class), PhoneDetector.DEFAULT_REGIONS);

  private final Set<EntityType> types;
  /** What each ASCII character triggers, given the enabled types. */
  private final byte[] triggers = new byte[128];
  private final NumberDetector numbers;
  private final boolean iban;
  private final boolean phone;

  PiiScanner(Set<EntityType> types, List<String> phoneRegions) {
    this.types = Set.copyOf(types);
    this.phone = types.contains(EntityType.PHONE);
    this.iban = types.contains(EntityType.IBAN);
    boolean ip = types.contains(EntityType.IP_ADDRESS);
    boolean ssn = types.contains(EntityType.US_SSN);
    boolean card = types.contains(EntityType.CREDIT_CARD);
    this.numbers = ip || ssn || card || phone ? new NumberDetector(ip, ssn, card, phone ? new PhoneDetector(phoneRegions) : null) : null;
    if (numbers != null || iban) {
      for (char c = '0'; c <= '9'; c++) {
        triggers[c] = DIGIT;
      }
    }
    if (types.contains(EntityType.EMAIL)) {
      triggers['@'] = AT;
      triggers['%'] = PERCENT;
    }
    if (ip) {
      triggers[':'] = COLON;
    }
    if (types.contains(EntityType.SECRET)) {
      for (char c = 0; c < 128; c++) {
        if (SecretDetector.trigger(c)) {
          triggers[c] = SECRET_START;
        }
      }
    }
  }

  /** A scanner for every type, with the default phone regions (US, GB, DE, FR, ES, IT, NL, IN, JP, BR, AU, CN, MX). */
  public static PiiScanner standard() {
    return STANDARD;
  }

  /** A scanner for the given types only, so that a policy pays only for what it redacts. */
  public static PiiScanner of(Set<EntityType> types) {
    requireNonNull(types, "types");
    EnumSet<EntityType> copy = EnumSet.noneOf(EntityType.class);
    for (EntityType type : types) {
      copy.add(requireNonNull(type, "types contains null"));
    }
    return copy.equals(STANDARD.types) ? STANDARD : new PiiScanner(copy, PhoneDetector.DEFAULT_REGIONS);
  }

  /**
   * The findings in {@code text}, sorted by start and non-overlapping: where candidates overlap the
   * longer one is kept, and on equal length the more specific type (a secret or a card number
   * rather than the phone number its digits also resemble).
   */
  public List<Finding> scan(CharSequence text) {
    requireNonNull(text, "text");
    String s = text.toString();
    Findings out = new Findings();
    byte[] triggers = this.triggers;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 128) {
        if (c >= '\uFF10' && c <= '\uFF19' && phone && !Chars.isWordAt(s, i - 1)) {
          i = numbers.scan(s, i, out); // full-width digits: Japanese phone numbers
        }
        continue;
      }
      switch (triggers[c]) {
        case NONE -> { }
        case DIGIT -> i = digit(s, i, out);
        case AT -> i = Math.max(i, EmailDetector.at(s, i, false, out) - 1);
        case PERCENT -> {
          if (s.startsWith("40", i + 1)) {
            i = Math.max(i, EmailDetector.at(s, i, true, out) - 1);
          }
        }
        case COLON -> {
          if (Ipv6Detector.trigger(s, i)) {
            i = Math.max(i, Ipv6Detector.at(s, i, out) - 1);
          }
        }
        case SECRET_START -> {
          if (i == 0 || !Chars.isWord(s.charAt(i - 1))) {
            i = Math.max(i, SecretDetector.at(s, i, out) - 1);
          }
        }
        default -> throw new AssertionError(triggers[c]);
      }
    }
    return out.resolve();
  }

  /** A digit: the start of a number, an IBAN's check digits, or part of a word to skip. */
  private int digit(String s, int i, Findings out) {
    if (i > 0 && Chars.isWord(s.charAt(i - 1))) {
      if (iban && i >= 2) {
        int end = IbanDetector.at(s, i, out);
        if (end > 0) {
          return end - 1;
        }
      }
      return skipWord(s, i);
    }
    return numbers != null ? numbers.scan(s, i, out) : i;
  }

  /**
   * The last index of the token containing {@code i}, dots and dashes inside it included, so that
   * "v1.2.3.4.5", "GPT-4o" and "A100" are skipped whole.
   */
  private static int skipWord(String s, int i) {
    int n = s.length();
    int j = i;
    while (j < n) {
      char c = s.charAt(j);
      if (Chars.isWord(c) || ((c == '.' || c == '-') && j + 1 < n && Chars.isAlnum(s.charAt(j + 1)))) {
        j++;
      } else {
        break;
      }
    }
    return j - 1;
  }
}
