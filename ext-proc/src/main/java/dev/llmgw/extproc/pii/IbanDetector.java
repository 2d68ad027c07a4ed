package dev.llmgw.extproc.pii;

import java.util.Locale;
import org.apache.commons.validator.routines.IBANValidator;

/**
 * IBANs: a country code IBANValidator knows, two check digits and the country's BBAN, written
 * either without spaces or in groups of four; the country's length, format and the mod-97 check
 * must all hold. Either all upper case, as printed on statements, or all lower case, as sometimes
 * typed; mixed case is a word, not an IBAN.
 */
final class IbanDetector {

  private static final IBANValidator VALIDATOR = IBANValidator.getInstance();

  /** IBAN-like tokens at least this long are skipped even when they are not valid. */
  private static final int MIN_SKIPPED = 12;

  private IbanDetector() {}

  /**
   * Tries an IBAN whose check digits start at {@code i}, the country code being the two letters
   * before. Returns the end of the IBAN-shaped token, or -1 if there is none; the token is reported
   * only if it passes the mod-97 check, but even an invalid one is skipped by the scanner, so that
   * its digit groups are not taken for phone numbers.
   */
  static int at(String s, int i, Findings out) {
    int start = i - 2;
    if (start < 0
        || !Chars.isLetter(s.charAt(start))
        || !Chars.isLetter(s.charAt(start + 1))
        || Chars.isWordAt(s, start - 1)
        || !Chars.isDigit(Chars.at(s, i + 1))) {
      return -1;
    }
    boolean upper = Chars.isUpper(s.charAt(start));
    if (upper != Chars.isUpper(s.charAt(start + 1))) {
      return -1; // "De12": a word, not a country code
    }
    IBANValidator.Validator validator =
        VALIDATOR.getValidator(s.substring(start, i).toUpperCase(Locale.ROOT));
    if (validator == null) {
      return -1;
    }
    int length = validator.getIbanLength();
    StringBuilder iban = new StringBuilder(length);
    boolean spaced = false;
    int j = start;
    int n = s.length();
    while (iban.length() < length && j < n) {
      char c = s.charAt(j);
      if ((upper ? Chars.isUpper(c) : Chars.isLower(c)) || Chars.isDigit(c)) {
        if (spaced && iban.length() % 4 == 0 && s.charAt(j - 1) != ' ') {
          return -1; // a group of more than four
        }
        iban.append(c);
        j++;
      } else if (c == ' '
          && iban.length() % 4 == 0
          && (spaced || iban.length() == 4)
          && Chars.isAlnum(Chars.at(s, j + 1))) {
        spaced = true;
        j++;
      } else {
        break;
      }
    }
    if (iban.length() < length || Chars.isWordAt(s, j)) {
      // a truncated IBAN is still skipped whole
      return iban.length() >= MIN_SKIPPED && !Chars.isWordAt(s, j) ? j : -1;
    }
    if (VALIDATOR.isValid(iban.toString().toUpperCase(Locale.ROOT))) {
      out.add(EntityType.IBAN, start, j);
    }
    return j;
  }
}
