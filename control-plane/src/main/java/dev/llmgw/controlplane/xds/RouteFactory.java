package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route.Retry;
import dev.llmgw.controlplane.model.Route.Target;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/**
 * Builds the route configuration. ext-proc decides where a request goes and says so in
 * {@link XdsNames#ROUTE_HEADER}: named routes (weighted splits, failover chains) match their name,
 * every provider matches its own name, and a last route sends requests without the header to the
 * default provider.
 */
public final class RouteFactory {

  static final long DEFAULT_ROUTE_TIMEOUT_SECONDS = 300;
  /** Retry on what an LLM provider returns when it is overloaded or unreachable. */
  static final String RETRY_ON = "retriable-status-codes,5xx,reset,connect-failure";

  static final String PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts";
  static final String PREVIOUS_PRIORITIES = "envoy.retry_priorities.previous_priorities";

  private RouteFactory() {}

  public static RouteConfiguration routes(List<Provider> providers, String defaultProvider) {
    return routes(providers, defaultProvider, List.of());
  }

  public static RouteConfiguration routes(
      List<Provider> providers,
      String defaultProvider,
      List<dev.llmgw.controlplane.model.Route> named) {
    return routes(providers, defaultProvider, named, java.util.Set.of());
  }

  /**
   * Headers that are for the gateway only and never reach a provider: the route header and the
   * identity headers, among them the caller's gateway API key. {@code authorization} is left alone:
   * a provider credential overwrites it, and without one it is the caller's own provider key.
   */
  static List<String> internalHeaders(java.util.Set<String> identityHeaders) {
    java.util.TreeSet<String> names = new java.util.TreeSet<>(List.of(
        XdsNames.ROUTE_HEADER,
        XdsNames.TENANT_HEADER,
        "x-llmgw-application",
        "x-llmgw-user",
        "x-llmgw-api-key"));
    identityHeaders.stream().filter(h -> !h.equals("authorization")).forEach(names::add);
    return List.copyOf(names);
  }

  public static RouteConfiguration routes(
      List<Provider> providers,
      String defaultProvider,
      List<dev.llmgw.controlplane.model.Route> named,
      java.util.Set<String> identityHeaders) {
    return routes(providers, defaultProvider, named, identityHeaders, java.util.Set.of());
  }

  /**
   * The routes, those of {@code failOpen} providers and routes with the fail-open ext_proc instance
   * ({@link HttpFilterFactory#failOpenPerRoute()}); the default route fails as the default provider.
   */
  public static RouteConfiguration routes(
      List<Provider> providers,
      String defaultProvider,
      List<dev.llmgw.controlplane.model.Route> named,
      java.util.Set<String> identityHeaders,
      java.util.Set<String> failOpen) {
    VirtualHost.Builder vhost = VirtualHost.newBuilder()
        .setName("llmgw")
        .addDomains("*")
        // Removed when the request is forwarded, after the route was chosen on them.
        .addAllRequestHeadersToRemove(internalHeaders(identityHeaders));
    for (dev.llmgw.controlplane.model.Route r : named) {
      vhost.addRoutes(failureMode(
          Route.newBuilder()
              .setName("route_" + r.name())
              .setMatch(routeMatch(r))
              .setRoute(action(r)),
          failOpen.contains(r.name())));
    }
    for (Provider p : providers) {
      vhost.addRoutes(failureMode(
          Route.newBuilder()
              .setName("provider_" + p.name())
              .setMatch(headerMatch(p.name()))
              .setRoute(toCluster(XdsNames.providerCluster(p.name()))),
          failOpen.contains(p.name())));
    }
    Provider fallback = providers.stream()
        .filter(p -> p.name().equals(defaultProvider))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "defaultProvider: '" + defaultProvider + "' (expected: a listed provider)"));
    vhost.addRoutes(failureMode(
        Route.newBuilder()
            .setName("default")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(toCluster(XdsNames.providerCluster(fallback.name()))),
        failOpen.contains(fallback.name())));
    return RouteConfiguration.newBuilder()
        .setName(XdsNames.ROUTE_CONFIG)
        .addVirtualHosts(vhost)
        .build();
  }

  private static Route.Builder failureMode(Route.Builder route, boolean failOpen) {
    return failOpen
        ? route.putAllTypedPerFilterConfig(HttpFilterFactory.failOpenPerRoute())
        : route;
  }

  /**
   * The route header, plus a named route's own conditions: a path prefix, and the tenant ext-proc
   * resolved, which it writes into {@link XdsNames#TENANT_HEADER} (a client's value never survives).
   */
  private static RouteMatch routeMatch(dev.llmgw.controlplane.model.Route r) {
    RouteMatch.Builder m = headerMatch(r.name()).toBuilder();
    if (r.match() != null) {
      if (r.match().pathPrefix() != null) {
        m.setPrefix(r.match().pathPrefix());
      }
      if (r.match().tenant() != null) {
        m.addHeaders(HeaderMatcher.newBuilder()
            .setName(XdsNames.TENANT_HEADER)
            .setStringMatch(StringMatcher.newBuilder().setExact(r.match().tenant())));
      }
    }
    return m.build();
  }

  private static RouteMatch headerMatch(String value) {
    return RouteMatch.newBuilder()
        .setPrefix("/")
        .addHeaders(HeaderMatcher.newBuilder()
            .setName(XdsNames.ROUTE_HEADER)
            .setStringMatch(StringMatcher.newBuilder().setExact(value)))
        .build();
  }

  private static RouteAction toCluster(String cluster) {
    return base().setCluster(cluster).build();
  }

  private static RouteAction.Builder base() {
    return RouteAction.newBuilder()
        // Providers serve by virtual host; send the Host they expect, not the gateway's.
        .setAutoHostRewrite(BoolValue.of(true))
        // Completions can take minutes; Envoy's 15 s default would cut them off.
        .setTimeout(Durations.fromSeconds(DEFAULT_ROUTE_TIMEOUT_SECONDS));
  }

  static RouteAction action(dev.llmgw.controlplane.model.Route r) {
    RouteAction.Builder action = base().setTimeout(ClusterFactory.duration(r.timeout()));
    if (r.idleTimeout() != null) {
      action.setIdleTimeout(ClusterFactory.duration(r.idleTimeout()));
    }
    List<Target> targets = r.byPriority();
    if (r.isFailover()) {
      action.setCluster(XdsNames.failoverCluster(r.name()));
    } else if (targets.size() == 1) {
      action.setCluster(XdsNames.providerCluster(targets.get(0).provider()));
    } else {
      WeightedCluster.Builder split = WeightedCluster.newBuilder();
      for (Target t : targets) {
        split.addClusters(WeightedCluster.ClusterWeight.newBuilder()
            .setName(XdsNames.providerCluster(t.provider()))
            .setWeight(UInt32Value.of(t.weight())));
      }
      action.setWeightedClusters(split);
    }
    if (r.retry() != null) {
      action.setRetryPolicy(retryPolicy(r.retry(), r.isFailover(), targets.size()));
    }
    return action.build();
  }

  /**
   * A retry never goes back to a host that just failed (previous_hosts); on a failover route it
   * also goes to the next priority first (previous_priorities), so a retry lands on the next
   * provider instead of hammering the one that answered 429.
   */
  static RetryPolicy retryPolicy(Retry retry, boolean failover, int priorities) {
    RetryPolicy.Builder policy = RetryPolicy.newBuilder()
        .setRetryOn(RETRY_ON)
        .addRetriableStatusCodes(429)
        .setNumRetries(UInt32Value.of(retry.attempts()))
        .setRetryBackOff(RetryPolicy.RetryBackOff.newBuilder()
            .setBaseInterval(ClusterFactory.duration(retry.baseBackoff()))
            .setMaxInterval(ClusterFactory.duration(retry.baseBackoff().multipliedBy(10))))
        .addRetryHostPredicate(RetryPolicy.RetryHostPredicate.newBuilder()
            .setName(PREVIOUS_HOSTS)
            .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())))
        .setHostSelectionRetryMaxAttempts(3);
    if (retry.perTryTimeout() != null) {
      policy.setPerTryTimeout(ClusterFactory.duration(retry.perTryTimeout()));
    }
    if (failover) {
      policy.setRetryPriority(RetryPolicy.RetryPriority.newBuilder()
          .setName(PREVIOUS_PRIORITIES)
          .setTypedConfig(Any.pack(PreviousPrioritiesConfig.newBuilder()
              .setUpdateFrequency(Math.max(1, priorities - 1))
              .build())));
    }
    return policy.build();
  }
}
