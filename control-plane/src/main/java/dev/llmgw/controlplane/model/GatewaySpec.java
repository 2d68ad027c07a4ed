package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

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
 * @param fleets provider or route name to the fleets (Envoy {@code node.cluster} values) it is
 *     restricted to; a name without an entry serves every fleet
 * @param identityHeaders request headers (lower case) that carry the caller's identity to ext-proc
 *     beyond the gateway's own {@code x-llmgw-*} ones; never forwarded to providers
 * @param failOpen providers and routes whose {@code failure_mode} is {@code fail_open}: when
 *     ext-proc is down or its stream breaks, Envoy forwards their requests unprocessed instead of
 *     answering 500; every other one fails closed
 * @param extProcTls the files with which Envoy reaches ext-proc over mutual TLS, or null for
 *     plaintext
 */
public record GatewaySpec(
    int listenerPort,
    List<Endpoint> extProc,
    Duration extProcMessageTimeout,
    List<Provider> providers,
    String defaultProvider,
    String trustedCaFile,
    List<Route> routes,
    Map<String, Set<String>> fleets,
    Set<String> identityHeaders,
    Set<String> failOpen,
    @Nullable ExtProcTls extProcTls) {

  /** A fleet name: an Envoy {@code node.cluster} value. */
  static final java.util.regex.Pattern FLEET =
      java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,63}");

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
        throw new IllegalArgumentException(
            "providers: duplicate name '" + p.name() + "' (expected: unique names)");
      }
    }
    Set<String> routeNames = new HashSet<>();
    for (Route r : routes) {
      if (names.contains(r.name())) {
        throw new IllegalArgumentException(
            "routes: '" + r.name() + "' is already the implicit route of provider '" + r.name()
                + "' (expected: a route name that is not a provider name)");
      }
      if (!routeNames.add(r.name())) {
        throw new IllegalArgumentException(
            "routes: duplicate name '" + r.name() + "' (expected: unique names)");
      }
      for (Route.Target t : r.targets()) {
        if (!names.contains(t.provider())) {
          throw new IllegalArgumentException(
              "routes['" + r.name() + "'].targets: unknown provider '" + t.provider()
                  + "' (expected: one of " + names.stream().sorted().toList() + ")");
        }
      }
    }
    if (!names.contains(defaultProvider)) {
      throw new IllegalArgumentException("defaultProvider: '" + defaultProvider
          + "' (expected: one of " + names.stream().sorted().toList() + ")");
    }
    if (extProcMessageTimeout.isNegative() || extProcMessageTimeout.isZero()) {
      throw new IllegalArgumentException(
          "extProcMessageTimeout: " + extProcMessageTimeout + " (expected: > 0)");
    }
    Map<String, Set<String>> copy = new java.util.TreeMap<>();
    for (Map.Entry<String, Set<String>> e : requireNonNull(fleets, "fleets").entrySet()) {
      if (!names.contains(e.getKey()) && !routeNames.contains(e.getKey())) {
        throw new IllegalArgumentException(
            "fleets: '" + e.getKey() + "' is neither a provider nor a route");
      }
      if (e.getValue().isEmpty()) {
        continue;
      }
      for (String fleet : e.getValue()) {
        if (fleet == null || !FLEET.matcher(fleet).matches()) {
          throw new IllegalArgumentException(
              "fleets: '" + fleet + "' (expected: an Envoy node.cluster value, "
                  + "letters, digits, '_', '.', '-', at most 63)");
        }
      }
      copy.put(e.getKey(), Set.copyOf(e.getValue()));
    }
    if (copy.containsKey(defaultProvider)) {
      throw new IllegalArgumentException("fleets: the default provider '" + defaultProvider
          + "' serves every fleet (expected: no fleets on it)");
    }
    fleets = java.util.Collections.unmodifiableMap(copy);
    identityHeaders = Set.copyOf(requireNonNull(identityHeaders, "identityHeaders"));
    for (String name : requireNonNull(failOpen, "failOpen")) {
      if (!names.contains(name) && !routeNames.contains(name)) {
        throw new IllegalArgumentException(
            "failOpen: '" + name + "' (expected: a provider or route name)");
      }
    }
    failOpen = Set.copyOf(failOpen);
  }

  /** Same spec, Envoy reaching ext-proc in plaintext. */
  public GatewaySpec(
      int listenerPort,
      List<Endpoint> extProc,
      Duration extProcMessageTimeout,
      List<Provider> providers,
      String defaultProvider,
      String trustedCaFile,
      List<Route> routes,
      Map<String, Set<String>> fleets,
      Set<String> identityHeaders,
      Set<String> failOpen) {
    this(
        listenerPort,
        extProc,
        extProcMessageTimeout,
        providers,
        defaultProvider,
        trustedCaFile,
        routes,
        fleets,
        identityHeaders,
        failOpen,
        null);
  }

  /** Same spec, every provider and route failing closed. */
  public GatewaySpec(
      int listenerPort,
      List<Endpoint> extProc,
      Duration extProcMessageTimeout,
      List<Provider> providers,
      String defaultProvider,
      String trustedCaFile,
      List<Route> routes,
      Map<String, Set<String>> fleets,
      Set<String> identityHeaders) {
    this(
        listenerPort,
        extProc,
        extProcMessageTimeout,
        providers,
        defaultProvider,
        trustedCaFile,
        routes,
        fleets,
        identityHeaders,
        Set.of());
  }

  /** Whether requests routed to this provider or route go on unprocessed when ext-proc fails. */
  public boolean failsOpen(String providerOrRoute) {
    return failOpen.contains(providerOrRoute);
  }

  /** Same spec, identity only in the gateway's own headers. */
  public GatewaySpec(
      int listenerPort,
      List<Endpoint> extProc,
      Duration extProcMessageTimeout,
      List<Provider> providers,
      String defaultProvider,
      String trustedCaFile,
      List<Route> routes,
      Map<String, Set<String>> fleets) {
    this(
        listenerPort,
        extProc,
        extProcMessageTimeout,
        providers,
        defaultProvider,
        trustedCaFile,
        routes,
        fleets,
        Set.of());
  }

  /** Same spec, every resource serving every fleet. */
  public GatewaySpec(
      int listenerPort,
      List<Endpoint> extProc,
      Duration extProcMessageTimeout,
      List<Provider> providers,
      String defaultProvider,
      String trustedCaFile,
      List<Route> routes) {
    this(
        listenerPort,
        extProc,
        extProcMessageTimeout,
        providers,
        defaultProvider,
        trustedCaFile,
        routes,
        Map.of(),
        Set.of());
  }

  /** Every fleet some provider or route is restricted to. */
  public Set<String> fleetNames() {
    Set<String> all = new java.util.TreeSet<>();
    fleets.values().forEach(all::addAll);
    return all;
  }

  /**
   * What {@code fleet} is served: the providers and routes without fleets, plus those restricted to
   * it. {@code null} is the default group: only unrestricted ones.
   *
   * @throws IllegalArgumentException if a route of the fleet targets a provider the fleet lacks
   */
  public GatewaySpec forFleet(@Nullable String fleet) {
    if (fleets.isEmpty()) {
      return this;
    }
    List<Provider> ps = providers.stream().filter(p -> serves(p.name(), fleet)).toList();
    List<Route> rs = routes.stream().filter(r -> serves(r.name(), fleet)).toList();
    try {
      return new GatewaySpec(
          listenerPort,
          extProc,
          extProcMessageTimeout,
          ps,
          defaultProvider,
          trustedCaFile,
          rs,
          Map.of(),
          identityHeaders,
          failOpen.stream()
              .filter(name -> serves(name, fleet))
              .collect(java.util.stream.Collectors.toSet()),
          extProcTls);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          (fleet == null ? "Envoys of no fleet" : "fleet '" + fleet + "'") + ": " + e.getMessage(),
          e);
    }
  }

  private boolean serves(String name, @Nullable String fleet) {
    Set<String> restricted = fleets.get(name);
    return restricted == null || (fleet != null && restricted.contains(fleet));
  }

  /** Same spec without any named route, for the startup configuration. */
  public GatewaySpec(
      int listenerPort,
      List<Endpoint> extProc,
      Duration extProcMessageTimeout,
      List<Provider> providers,
      String defaultProvider,
      String trustedCaFile) {
    this(
        listenerPort,
        extProc,
        extProcMessageTimeout,
        providers,
        defaultProvider,
        trustedCaFile,
        List.of(),
        Map.of(),
        Set.of());
  }
}
