package dev.llmgw.extproc.pii;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Collects the candidate spans of one scan and resolves overlaps: the longer span wins, on equal
 * length the more specific type (a validated card beats a phone number that happens to cover the
 * same digits). Most scans find nothing, so nothing is allocated until the first candidate.
 *
 * <p>Also holds the scan's budget of libphonenumber calls, the one expensive validator (tens of
 * microseconds a call): without it, a body made of phone-like numbers would cost tens of seconds
 * per megabyte.
 */
final class Findings {

  /** libphonenumber calls allowed per scan: a base, plus one per this many characters. */
  static final int PHONE_CHECKS_BASE = 64;

  static final int CHARS_PER_PHONE_CHECK = 1024;

  private static final Comparator<Finding> PREFERRED = Comparator.comparingInt(
          (Finding f) -> f.end() - f.start())
      .reversed()
      .thenComparing(
          Comparator.comparingInt((Finding f) -> specificity(f.type())).reversed())
      .thenComparingInt(Finding::start);

  private @Nullable ArrayList<Finding> candidates;
  private int maxEnd;
  private int phoneChecksLeft;

  Findings(int textLength) {
    this.phoneChecksLeft = PHONE_CHECKS_BASE + textLength / CHARS_PER_PHONE_CHECK;
  }

  /** Takes one libphonenumber call from the budget; false once it is spent. */
  boolean takePhoneCheck() {
    return phoneChecksLeft-- > 0;
  }

  void add(EntityType type, int start, int end) {
    if (candidates == null) {
      candidates = new ArrayList<>();
    }
    candidates.add(new Finding(type, start, end));
    maxEnd = Math.max(maxEnd, end);
  }

  /** The end of the rightmost candidate so far, 0 if none: detectors looking back stop there. */
  int maxEnd() {
    return maxEnd;
  }

  /** Number of candidates so far. */
  int size() {
    return candidates == null ? 0 : candidates.size();
  }

  /** The accepted findings, sorted by start and pairwise disjoint. */
  List<Finding> resolve() {
    if (candidates == null) {
      return List.of();
    }
    if (candidates.size() == 1) {
      return List.of(candidates.get(0));
    }
    candidates.sort(PREFERRED);
    TreeMap<Integer, Finding> accepted = new TreeMap<>();
    for (Finding f : candidates) {
      Map.Entry<Integer, Finding> before = accepted.floorEntry(f.start());
      if (before != null && before.getValue().end() > f.start()) {
        continue;
      }
      Map.Entry<Integer, Finding> after = accepted.ceilingEntry(f.start());
      if (after != null && after.getKey() < f.end()) {
        continue;
      }
      accepted.put(f.start(), f);
    }
    return List.copyOf(accepted.values());
  }

  /** Higher is more specific: validated structures and secrets before free-form numbers. */
  private static int specificity(EntityType type) {
    return switch (type) {
      case SECRET -> 6;
      case CREDIT_CARD -> 5;
      case IBAN -> 4;
      case US_SSN -> 3;
      case IP_ADDRESS -> 2;
      case EMAIL -> 1;
      case PHONE -> 0;
    };
  }
}
