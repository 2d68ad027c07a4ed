package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.policy.ModelTarget;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.StreamContext;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * PII masking and restoring as an {@link ExchangeListener}. Register it before token counting, so
 * tokens are counted on what is actually sent.
 *
 * <p>Per exchange, the policy ({@link PiiPolicies#forExchange}) decides which entity types are looked
 * for in the request's text fields and what happens to each: masked with a placeholder, redacted,
 * hashed, or the request blocked. Masked values are restored in the response when the policy says
 * so, streamed or not. The mapping lives in the exchange's observer only and is dropped at its end.
 * If detection fails, the request is blocked unless the policy says to forward it.
 */
public final class PiiProtection implements ExchangeListener {

  private final PiiMetrics metrics;
  private final Function<Set<EntityType>, TextScanner> scanners;
  private final byte[] hashKey;
  private final ConcurrentHashMap<Set<EntityType>, TextScanner> cache = new ConcurrentHashMap<>();

  /** Scans a text for findings; thrown exceptions count as detection failures. */
  @FunctionalInterface
  public interface TextScanner {
    java.util.List<Finding> scan(CharSequence text);
  }

  private PiiProtection(
      MeterRegistry registry, Function<Set<EntityType>, TextScanner> scanners, byte[] hashKey) {
    this.metrics = new PiiMetrics(registry);
    this.scanners = scanners;
    this.hashKey = hashKey.clone();
  }

  /**
   * The production listener.
   *
   * @param hashKey key of the HMAC behind the HASH action: the same key gives the same hash for the
   *     same value across restarts and replicas; null for a random key per process
   */
  public static PiiProtection listener(MeterRegistry registry, byte @Nullable [] hashKey) {
    return withScanners(registry, hashKey, types -> PiiScanner.of(types)::scan);
  }

  /** A listener with its own scanners, for tests (for example one that fails). */
  public static PiiProtection withScanners(
      MeterRegistry registry,
      byte @Nullable [] hashKey,
      Function<Set<EntityType>, TextScanner> scanners) {
    requireNonNull(registry, "registry");
    requireNonNull(scanners, "scanners");
    byte[] key = hashKey;
    if (key == null) {
      key = new byte[32];
      new SecureRandom().nextBytes(key);
    }
    if (key.length < 16) {
      throw new IllegalArgumentException(
          "hashKey: " + key.length + " bytes (expected: at least 16)");
    }
    return new PiiProtection(registry, scanners, key);
  }

  @Override
  public Observer open(StreamContext context) {
    PiiPolicy policy = policyFor(context);
    if (policy == null || !policy.active()) {
      return NOTHING;
    }
    return new PiiObserver(context, policy, this);
  }

  /** Model output is read only when the policy scans it; restoring goes through the response rewriter. */
  @Override
  public boolean wantsResponseBody(StreamContext context) {
    PiiPolicy policy = policyFor(context);
    return policy != null && policy.responseScan() != PiiPolicy.ResponseScan.OFF;
  }

  private static @Nullable PiiPolicy policyFor(StreamContext context) {
    ModelTarget target = context.target();
    String route = target == null ? null : target.route();
    return context
        .policy()
        .pii()
        .forExchange(context.identity().tenant(), route)
        .orElse(null);
  }

  TextScanner scanner(Set<EntityType> types) {
    return cache.computeIfAbsent(Set.copyOf(types), scanners);
  }

  PiiMetrics metrics() {
    return metrics;
  }

  byte[] hashKey() {
    return hashKey;
  }

  private static final Observer NOTHING = new Observer() {};
}
