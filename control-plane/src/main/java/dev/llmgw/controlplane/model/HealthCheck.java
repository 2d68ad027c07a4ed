package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Active health checking of a provider: Envoy sends {@code GET path} to it every {@code interval}
 * and takes it out of rotation after {@code unhealthyThreshold} failures in a row, back in after
 * {@code healthyThreshold} successes. Health checks carry no credential (Envoy sends them outside the
 * request path), so any answer below 500, a 401 included, counts as healthy: the check proves the
 * provider is reachable and answering, while outlier detection judges the real traffic.
 *
 * @param path request path, e.g. {@code /v1/models}
 * @param interval time between checks
 * @param timeout how long one check may take
 * @param unhealthyThreshold failures in a row before the provider is marked unhealthy
 * @param healthyThreshold successes in a row before it is healthy again
 */
public record HealthCheck(
    String path,
    Duration interval,
    Duration timeout,
    int unhealthyThreshold,
    int healthyThreshold) {

  public HealthCheck {
    requireNonNull(path, "health_check.path");
    requireNonNull(interval, "health_check.interval");
    requireNonNull(timeout, "health_check.timeout");
    if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException(
          "health_check.path: '" + path + "' (expected: an absolute path such as /v1/models)");
    }
    if (interval.toMillis() < 1000 || interval.toMinutes() > 10) {
      throw new IllegalArgumentException(
          "health_check.interval_ms: " + interval.toMillis() + " (expected: 1000..600000)");
    }
    if (timeout.toMillis() < 100 || timeout.compareTo(interval) > 0) {
      throw new IllegalArgumentException("health_check.timeout_ms: " + timeout.toMillis()
          + " (expected: at least 100 and at most interval_ms)");
    }
    if (unhealthyThreshold < 1 || unhealthyThreshold > 10) {
      throw new IllegalArgumentException(
          "health_check.unhealthy_threshold: " + unhealthyThreshold + " (expected: 1..10)");
    }
    if (healthyThreshold < 1 || healthyThreshold > 10) {
      throw new IllegalArgumentException(
          "health_check.healthy_threshold: " + healthyThreshold + " (expected: 1..10)");
    }
  }
}
