package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything the control plane turns into one Envoy snapshot. Plain values, no Envoy types: the
 * translation in {@code xds} is a pure function of this record.
 *
 * @param listenerPort port of the Envoy listener that clients call
 * @param extProc ext-proc replicas Envoy streams requests to (already resolved to IP addresses)
 * @param extProcMessageTimeout how long Envoy waits for ext-proc's answer to each message
 * @param providers upstream LLM providers, at least one
 * @param defaultProvider provider for requests that carry no route header
 * @param trustedCaFile CA bundle, on the Envoy host, that provider certificates are checked against
 * @param routes named routes (weighted splits, failover chains); every provider also has an
 *     implicit route of its own name
 */
public record GatewaySpec(
    int listenerPort,
    List<Endpoint> extProc,
    Duration extProcMessageTimeout,
    List<Provider> providers,
    String defaultProvider,
    String trustedCaFile,
    List<Route> routes) {

  public GatewaySpec {
    if (listenerPort < 1 || listenerPort > 65535) {
      throw new IllegalArgumentException("listenerPort: " + listenerPort + " (expected: 1..65535)");
    }
    extProc = List.copyOf(requireNonNull(extProc, "extProc"));
    providers = List.copyOf(requireNonNull(providers, "providers"));
    routes = List.copyOf(requireNonNull(routes, "routes"));
    requireNonNull(extProcMessageTimeout, "extProcMessageTimeout");
    requireNonNull(defaultProvider, "defaultProvider");
    requireNonNull(trustedCaFile, "trustedCaFile");
    if (extProc.isEmpty()) {
      throw new IllegalArgumentException("extProc: [] (expected: at least one ext-proc endpoint)");
    }
    if (providers.isEmpty()) {
      throw new IllegalArgumentException("providers: [] (expected: at least one provider)");
    }
    Set<String> names = new HashSet<>();
    for (Provider p : providers) {
      if (!names.add(p.name())) {
        throw new IllegalArgumentException("providers: duplicate name '" + p.name() + "' (expected: unique names)");
      }
    }
    Set<String> routeNames = new HashSet<>();
    for (Route r : routes) {
      if (names.contains(r.name())) {
        throw new IllegalArgumentException("routes: '" + r.name() + "' is already the implicit route of provider '"
            + r.name() + "' (expected: a route name that is not a provider name)");
      }
      if (!routeNames.add(r.name())) {
        throw new IllegalArgumentException("routes: duplicate name '" + r.name() + "' (expected: unique names)");
      }
      for (Route.Target t : r.targets()) {
        if (!names.contains(t.provider())) {
          throw new IllegalArgumentException("routes['" + r.name() + "'].targets: unknown provider '" + t.provider()
              + "' (expected: one of " + names.stream().sorted().toList() + ")");
        }
      }
    }
    if (!names.contains(defaultProvider)) {
      throw new IllegalArgumentException(
          "defaultProvider: '" + defaultProvider + "' (expected: one of " + names.stream().sorted().toList() + ")");
    }
    if (extProcMessageTimeout.isNegative() || extProcMessageTimeout.isZero()) {
      throw new IllegalArgumentException("extProcMessageTimeout: " + extProcMessageTimeout + " (expected: > 0)");
    }
  }

  /** Same spec without any named route, for the startup configuration. */
  public GatewaySpec(int listenerPort, List<Endpoint> extProc, Duration extProcMessageTimeout, List<Provider> providers,
      String defaultProvider, String trustedCaFile) {
    this(listenerPort, extProc, extProcMessageTimeout, providers, defaultProvider, trustedCaFile, List.of());
  }
}
