package dev.llmgw.extproc.pii;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Kinds of personal data and secrets the gateway detects. Policies name them by {@link #tag()}, and
 * redaction placeholders use {@link #name()} ({@code <EMAIL_1>}), so both spellings are part of the
 * contract with policy files and with clients that see redacted text.
 */
public enum EntityType {
  EMAIL,
  PHONE,
  CREDIT_CARD,
  IBAN,
  US_SSN,
  IP_ADDRESS,
  SECRET;

  private final String tag = name().toLowerCase(Locale.ROOT);

  /** The lower-case name used in policy files and metrics, e.g. {@code "credit_card"}. */
  public String tag() {
    return tag;
  }

  /**
   * Parses a tag as written in a policy file, ignoring case, so that a typo fails when the policy
   * is loaded rather than silently disabling a detector.
   *
   * @throws IllegalArgumentException if {@code tag} names no type; the message lists the allowed tags
   */
  public static EntityType fromTag(String tag) {
    if (tag != null) {
      for (EntityType type : values()) {
        if (type.tag.equalsIgnoreCase(tag)) {
          return type;
        }
      }
    }
    throw new IllegalArgumentException("unknown PII type: " + tag + " (expected one of: "
        + Arrays.stream(values()).map(EntityType::tag).collect(Collectors.joining(", ")) + ")");
  }

  /**
   * Whether a checksum or a structural validator confirms every match (Luhn for cards, mod-97 for
   * IBANs, the SSA's issuing rules for SSNs, address syntax for IPs). Such types can be held to a
   * stricter precision target than the ones that rely on patterns and context.
   */
  public boolean checksumValidated() {
    return switch (this) {
      case CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS -> true;
      case EMAIL, PHONE, SECRET -> false;
    };
  }
}
