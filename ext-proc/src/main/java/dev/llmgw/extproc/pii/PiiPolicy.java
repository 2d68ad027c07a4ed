package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * What to do with personal data in one exchange: an action per entity type (types not listed are
 * not looked for), whether masked values come back in the response, what happens when detection
 * itself fails, and whether the model's own output is scanned.
 *
 * @param actions action per entity type; a type absent from the map is not detected
 * @param restore put masked values back into the response the client receives
 * @param onError what happens to a request when detection fails: blocked (the default) or forwarded as it is
 * @param responseScan whether the response is scanned for personal data the model produced
 * @param blockStatus HTTP status of a blocked request: 400 or 403
 */
public record PiiPolicy(
    Map<EntityType, Action> actions,
    boolean restore,
    OnError onError,
    ResponseScan responseScan,
    int blockStatus) {

  /** What happens to a detected value in the request. */
  public enum Action {
    /** Forwarded as it is (the same as not listing the type). */
    ALLOW,
    /** Replaced by a typed placeholder such as {@code <EMAIL_1>}, restorable in the response. */
    MASK,
    /** Replaced by {@code [REDACTED_EMAIL]}; not restorable. */
    REDACT,
    /** Replaced by a keyed hash such as {@code <EMAIL_HASH_3f2a9c1d0b7e>}: equal values stay equal, not restorable. */
    HASH,
    /** The request is refused, naming the types found but never the values. */
    BLOCK
  }

  /** Handling of a request whose detection failed. */
  public enum OnError {
    BLOCK,
    ALLOW
  }

  /** Scanning of the model's output. */
  public enum ResponseScan {
    OFF,
    /** Count what the model emitted, by type, in metrics and the access log; change nothing. */
    FLAG,
    /** Mask it in non-streamed responses ({@code [REDACTED_EMAIL]}); streamed responses are flagged only. */
    MASK
  }

  public PiiPolicy {
    requireNonNull(actions, "actions");
    requireNonNull(onError, "onError");
    requireNonNull(responseScan, "responseScan");
    EnumMap<EntityType, Action> copy = new EnumMap<>(EntityType.class);
    copy.putAll(actions);
    actions = Collections.unmodifiableMap(copy);
    if (blockStatus != 400 && blockStatus != 403) {
      throw new IllegalArgumentException("blockStatus: " + blockStatus + " (expected: 400 or 403)");
    }
  }

  /** Every type masked and restored; detection failures block. */
  public static PiiPolicy maskAll() {
    EnumMap<EntityType, Action> all = new EnumMap<>(EntityType.class);
    for (EntityType t : EntityType.values()) {
      all.put(t, Action.MASK);
    }
    return new PiiPolicy(all, true, OnError.BLOCK, ResponseScan.OFF, 400);
  }

  public Action actionFor(EntityType type) {
    return actions.getOrDefault(type, Action.ALLOW);
  }

  /** The types this policy looks for in requests. */
  public Set<EntityType> detectedTypes() {
    EnumSet<EntityType> types = EnumSet.noneOf(EntityType.class);
    actions.forEach((t, a) -> {
      if (a != Action.ALLOW) {
        types.add(t);
      }
    });
    return types;
  }

  /** Whether the policy does anything at all. */
  public boolean active() {
    return !detectedTypes().isEmpty() || responseScan != ResponseScan.OFF;
  }
}
