package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Finds personal data and secrets in text on the request path. One hand-written pass over the
 * characters looks for cheap triggers (a digit starting a token, an "@", a ":" next to hex digits,
 * the first letters of known key prefixes); only then do the precise validators run, on a small
 * window. Text without triggers therefore costs little more than reading it.
 *
 * <p>Instances are immutable and thread-safe; a scan keeps its state in objects local to the call. Findings carry
 * offsets only, never the matched text. See docs/pii.md for what each type matches and why.
 */
public final class PiiScanner {

  /** Character classes of the scan loop (ASCII only; see {@link #classes}). */
  private static final byte OTHER = 0;

  private static final byte WORD = 1;
  private static final byte DIGIT = 2;
  private static final byte AT = 3;
  private static final byte PERCENT = 4;
  private static final byte COLON = 5;
  private static final byte DASH = 6;

  private static final PiiScanner STANDARD =
      new PiiScanner(EnumSet.allOf(EntityType.class), PhoneDetector.DEFAULT);

  private final Set<EntityType> types;
  /** What each ASCII character means to the scan loop, given the enabled types. */
  private final byte[] classes = new byte[128];

  private final @Nullable NumberDetector numbers;
  private final boolean iban;
  private final boolean phone;
  private final boolean secret;

  PiiScanner(Set<EntityType> types, PhoneDetector phones) {
    this.types = Set.copyOf(types);
    this.phone = types.contains(EntityType.PHONE);
    this.iban = types.contains(EntityType.IBAN);
    this.secret = types.contains(EntityType.SECRET);
    boolean ip = types.contains(EntityType.IP_ADDRESS);
    boolean ssn = types.contains(EntityType.US_SSN);
    boolean card = types.contains(EntityType.CREDIT_CARD);
    this.numbers = ip || ssn || card || phone
        ? new NumberDetector(ip, ssn, card, phone ? phones : null)
        : null;
    for (char c = 0; c < 128; c++) {
      if (Chars.isWord(c)) {
        classes[c] = Chars.isDigit(c) && numbers != null ? DIGIT : WORD;
      }
    }
    if (types.contains(EntityType.EMAIL)) {
      classes['@'] = AT;
      classes['%'] = PERCENT;
    }
    if (ip) {
      classes[':'] = COLON;
    }
    if (secret) {
      classes['-'] = DASH;
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
    return copy.equals(STANDARD.types) ? STANDARD : new PiiScanner(copy, PhoneDetector.DEFAULT);
  }

  /**
   * The findings in {@code text}, sorted by start and non-overlapping: where candidates overlap the
   * longer one is kept, and on equal length the more specific type (a secret or a card number
   * rather than the phone number its digits also resemble).
   */
  public List<Finding> scan(CharSequence text) {
    requireNonNull(text, "text");
    String s = text.toString();
    Findings out = new Findings(s.length());
    byte[] classes = this.classes;
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c >= 128) {
        // phone implies numbers != null
        i = c >= '\uFF10' && c <= '\uFF19' && phone && numbers != null
            ? numbers.scan(s, i, out) + 1
            : i + 1;
        continue;
      }
      byte k = classes[c];
      if (k == WORD) {
        // The common case: skip the word, then look closer only if its first letters say so.
        int start = i;
        i = skipWord(s, i + 1);
        if (secret && SecretDetector.mayStart(c, Chars.at(s, start + 1))
            || iban && i - start >= 4 && Chars.isDigit(Chars.at(s, start + 2))) {
          i = Math.max(i, special(s, start, out));
        }
      } else if (k == OTHER) {
        i++;
      } else {
        i = trigger(s, i, k, out);
      }
    }
    return out.resolve();
  }

  /**
   * A word starting at {@code start} whose first characters may begin a secret or an IBAN ("DE89");
   * returns the end of what was found, or -1.
   */
  private int special(String s, int start, Findings out) {
    if (secret) {
      int end = SecretDetector.at(s, start, out);
      if (end > 0) {
        return end;
      }
    }
    if (iban
        && Chars.isDigit(Chars.at(s, start + 2))
        && Chars.isLetter(s.charAt(start))
        && Chars.isLetter(Chars.at(s, start + 1))) {
      return IbanDetector.at(s, start + 2, out);
    }
    return -1;
  }

  /** Handles the trigger at {@code i}; returns the index to continue from (always past {@code i}). */
  private int trigger(String s, int i, byte k, Findings out) {
    switch (k) {
      case DIGIT -> {
        // Characters are classed DIGIT only when there is a number detector.
        int next = requireNonNull(numbers, "numbers").scan(s, i, out) + 1;
        return Chars.isWordAt(s, next) ? skipWord(s, next) : next;
      }
      case AT -> {
        return Math.max(i + 1, EmailDetector.at(s, i, false, out));
      }
      case PERCENT -> {
        return s.startsWith("40", i + 1)
            ? Math.max(i + 1, EmailDetector.at(s, i, true, out))
            : i + 1;
      }
      case COLON -> {
        return Ipv6Detector.trigger(s, i) ? Math.max(i + 1, Ipv6Detector.at(s, i, out)) : i + 1;
      }
      case DASH -> {
        return Chars.at(s, i + 1) == '-' ? Math.max(i + 1, SecretDetector.at(s, i, out)) : i + 1;
      }
      default -> throw new AssertionError(k);
    }
  }

  /** The index after the run of word characters starting at {@code i}; the scan's hottest loop. */
  private static int skipWord(String s, int i) {
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (c >= 128 || !WORD_CHARS[c]) {
        break;
      }
      i++;
    }
    return i;
  }

  private static final boolean[] WORD_CHARS = new boolean[128];

  static {
    for (char c = 0; c < 128; c++) {
      WORD_CHARS[c] = Chars.isWord(c);
    }
  }
}
