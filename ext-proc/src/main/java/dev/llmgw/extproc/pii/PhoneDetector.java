package dev.llmgw.extproc.pii;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Phone numbers through libphonenumber's matcher with leniency VALID: the number must be valid for
 * its region, and a national prefix that a region requires (the 0 of "030 ...") must be written.
 * The matcher is slow (tens of microseconds a call), so it only ever sees the short window of a
 * digit cluster that {@link NumberDetector} found, and only for the regions whose national number
 * lengths fit the cluster.
 */
final class PhoneDetector {

  /** The regions tried for numbers written without a country code, in order. */
  static final List<String> DEFAULT_REGIONS =
      List.of("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "JP", "BR", "AU", "CN", "MX");

  private static final long MAX_TRIES = 16;

  /** The detector for {@link #DEFAULT_REGIONS}; immutable, so every scanner shares it. */
  static final PhoneDetector DEFAULT = new PhoneDetector(DEFAULT_REGIONS);

  private final PhoneNumberUtil util = PhoneNumberUtil.getInstance();
  private final List<Region> regions;

  PhoneDetector(List<String> regionCodes) {
    List<Region> list = new ArrayList<>();
    for (String code : regionCodes) {
      int countryCode = util.getCountryCodeForRegion(code);
      if (countryCode == 0) {
        throw new IllegalArgumentException(
            "phone region: " + code + " (expected: an ISO 3166 region libphonenumber knows)");
      }
      list.add(new Region(code, countryCode == 1, nationalLengths(countryCode)));
    }
    this.regions = List.copyOf(list);
  }

  /**
   * Adds the phone numbers inside {@code [start, end)}, a cluster of {@code digits} digits that
   * starts with a digit, "(" or "+". A national number is tried in each region whose number lengths
   * fit, until one match covers the whole cluster.
   */
  void find(String s, int start, int end, int digits, Findings out) {
    String window = s.substring(start, end);
    if (window.charAt(0) == '+') {
      // The country code says which region; the default region does not matter.
      match(window, "ZZ", start, out);
      return;
    }
    int first = 0;
    while (!Chars.isDigitLike(window.charAt(first))) {
      first++;
    }
    boolean leadingZero = digitValue(window.charAt(first)) == 0;
    boolean nanpaExit = window.startsWith("011", first);
    for (Region region : regions) {
      if (leadingZero && region.nanpa && !nanpaExit) {
        continue; // no NANP national number starts with 0
      }
      if (digits <= 15 && !nanpaExit && !region.fits(digits, leadingZero)) {
        continue;
      }
      if (match(window, region.code, start, out)) {
        return;
      }
    }
  }

  /** The lengths a national significant number of the country can have, asked of libphonenumber. */
  private Set<Integer> nationalLengths(int countryCode) {
    Set<Integer> lengths = new HashSet<>();
    for (int length = 2; length <= 17; length++) {
      PhoneNumber probe = new PhoneNumber().setCountryCode(countryCode).setNationalNumber((long)
          Math.pow(10, length - 1));
      if (util.isPossibleNumberWithReason(probe) == PhoneNumberUtil.ValidationResult.IS_POSSIBLE) {
        lengths.add(length);
      }
    }
    return Set.copyOf(lengths);
  }

  /**
   * Adds the matches of one region; true when one of them covers the whole window. Once the scan's
   * budget of calls is spent, the window itself is reported unvalidated (it has passed every
   * structural check): a flood of phone-like numbers costs precision, never recall or seconds.
   */
  private boolean match(String window, String region, int offset, Findings out) {
    if (!out.takePhoneCheck()) {
      out.add(EntityType.PHONE, offset, offset + window.length());
      return true;
    }
    boolean complete = false;
    for (PhoneNumberMatch m :
        util.findNumbers(window, region, PhoneNumberUtil.Leniency.VALID, MAX_TRIES)) {
      out.add(EntityType.PHONE, offset + m.start(), offset + m.end());
      complete |= m.start() == 0 && m.end() == window.length();
    }
    return complete;
  }

  private static int digitValue(char c) {
    return c >= '\uFF10' ? c - '\uFF10' : c - '0';
  }

  private record Region(String code, boolean nanpa, Set<Integer> nationalLengths) {

    /**
     * Whether a cluster of {@code digits} digits can be one national number of this region: as it
     * is, without the trunk 0, or with an international prefix and country code in front (up to 5
     * more digits: "0049 ").
     */
    boolean fits(int digits, boolean leadingZero) {
      for (int extra = 0; extra <= 5; extra++) {
        if (nationalLengths.contains(digits - extra)) {
          return extra == 0 || leadingZero || nanpa && extra == 1;
        }
      }
      return false;
    }
  }
}
