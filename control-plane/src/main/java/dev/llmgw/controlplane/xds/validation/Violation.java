package dev.llmgw.controlplane.xds.validation;

import static java.util.Objects.requireNonNull;

/**
 * One way a resource breaks Envoy's rules.
 *
 * @param resource the resource, for example {@code listener 'llmgw_ingress'}
 * @param path the field inside it, with unpacked Any types in parentheses, for example {@code
 *     filter_chains[0].filters[0].typed_config(HttpConnectionManager).stat_prefix}; empty for the
 *     resource itself
 * @param message what is wrong, for example {@code length must be at least 1 but got: 0}
 */
public record Violation(String resource, String path, String message) {

  public Violation {
    requireNonNull(resource, "resource");
    requireNonNull(path, "path");
    requireNonNull(message, "message");
  }

  /** {@code listener 'ingress': filter_chains[0]...stat_prefix: length must be at least 1 ...}. */
  @Override
  public String toString() {
    return path.isEmpty() ? resource + ": " + message : resource + ": " + path + ": " + message;
  }
}
