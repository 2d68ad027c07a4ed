package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A named route: ext-proc sends a request here by setting the route header to {@code name}.
 * Targets at one priority share traffic by weight (a weighted split); targets at several
 * priorities form an ordered failover chain, one provider per priority, and traffic moves to the
 * next priority when one fails or is ejected.
 *
 * @param name value of the route header that selects this route
 * @param targets providers with weight and priority; either all one priority, or one per priority
 * @param retry retry policy, or null for no retries
 * @param timeout whole-request timeout; zero disables it (long streams)
 * @param idleTimeout stream idle timeout, or null for Envoy's default
 * @param match further conditions a request with the route header must meet, or null for none;
 *     requests that do not meet them fall through to the provider routes and the default route
 */
public record Route(
    String name,
    List<Target> targets,
    @Nullable Retry retry,
    Duration timeout,
    @Nullable Duration idleTimeout,
    @Nullable Match match) {

  /**
   * Conditions beyond the route header.
   *
   * @param pathPrefix the request path must start with this, or null
   * @param tenant the tenant ext-proc resolved for the request must be this, or null
   */
  public record Match(@Nullable String pathPrefix, @Nullable String tenant) {
    public Match {
      if (pathPrefix != null
          && (!pathPrefix.startsWith("/")
              || pathPrefix.chars().anyMatch(c -> c <= ' ' || c == 0x7f))) {
        throw new IllegalArgumentException(
            "match.path_prefix: '" + pathPrefix + "' (expected: a path starting with /)");
      }
      if (tenant != null && (tenant.isBlank() || tenant.length() > 256)) {
        throw new IllegalArgumentException(
            "match.tenant: '" + tenant + "' (expected: a tenant name, 1..256 characters)");
      }
      if (pathPrefix == null && tenant == null) {
        throw new IllegalArgumentException("match: {} (expected: path_prefix, tenant or both)");
      }
    }
  }

  /** A route matched on its route header alone. */
  public Route(
      String name,
      List<Target> targets,
      @Nullable Retry retry,
      Duration timeout,
      @Nullable Duration idleTimeout) {
    this(name, targets, retry, timeout, idleTimeout, null);
  }

  /** One provider of a route. Priority 0 is the primary. */
  public record Target(String provider, int weight, int priority) {
    public Target {
      Provider.requireName("targets[].provider", provider);
      if (weight < 1 || weight > 10_000) {
        throw new IllegalArgumentException("targets[].weight: " + weight + " (expected: 1..10000)");
      }
      if (priority < 0 || priority > 9) {
        throw new IllegalArgumentException("targets[].priority: " + priority + " (expected: 0..9)");
      }
    }
  }

  /**
   * Retries on 429, 5xx, resets and connect failures, each to a different host and, with
   * failover, to the next priority first.
   *
   * @param attempts retries after the first try, 1..5
   * @param perTryTimeout timeout of each try, or null for none
   * @param baseBackoff first backoff interval; later ones grow up to ten times this
   * @param budgetPercent most retries may be this share of active requests (Envoy retry budget)
   */
  public record Retry(
      int attempts, @Nullable Duration perTryTimeout, Duration baseBackoff, double budgetPercent) {
    public Retry {
      if (attempts < 1 || attempts > 5) {
        throw new IllegalArgumentException("retry.attempts: " + attempts + " (expected: 1..5)");
      }
      requireNonNull(baseBackoff, "retry.baseBackoff");
      if (baseBackoff.isNegative() || baseBackoff.isZero()) {
        throw new IllegalArgumentException(
            "retry.baseBackoff: " + baseBackoff + " (expected: > 0)");
      }
      if (!(budgetPercent > 0 && budgetPercent <= 100)) {
        throw new IllegalArgumentException(
            "retry.budgetPercent: " + budgetPercent + " (expected: > 0 and <= 100)");
      }
    }
  }

  public Route {
    Provider.requireName("name", name);
    targets = List.copyOf(requireNonNull(targets, "targets"));
    requireNonNull(timeout, "timeout");
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("targets: [] (expected: at least one provider)");
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException(
          "timeout: " + timeout + " (expected: >= 0; 0 disables it)");
    }
    Set<Integer> priorities = new HashSet<>();
    Set<String> providers = new HashSet<>();
    for (Target t : targets) {
      priorities.add(t.priority());
      if (!providers.add(t.provider())) {
        throw new IllegalArgumentException(
            "targets: provider '" + t.provider() + "' listed twice (expected: each provider once)");
      }
    }
    if (priorities.size() > 1 && priorities.size() != targets.size()) {
      throw new IllegalArgumentException(
          "targets: mixes a weighted split with failover (expected: all targets at one priority, or exactly one per priority)");
    }
  }

  /** True when the targets form an ordered failover chain. */
  public boolean isFailover() {
    return targets.size() > 1
        && targets.stream().map(Target::priority).distinct().count() > 1;
  }

  /** Targets by ascending priority. */
  public List<Target> byPriority() {
    return targets.stream()
        .sorted(java.util.Comparator.comparingInt(Target::priority))
        .toList();
  }
}
