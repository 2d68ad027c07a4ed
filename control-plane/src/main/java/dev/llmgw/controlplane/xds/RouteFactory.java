package dev.llmgw.controlplane.xds;

import com.google.protobuf.BoolValue;
import com.google.protobuf.util.Durations;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/**
 * Builds the route configuration. ext-proc decides where a request goes and says so in
 * {@link XdsNames#ROUTE_HEADER}; one route per provider matches that header, and a last route
 * sends requests without it to the default provider.
 */
public final class RouteFactory {

  static final long DEFAULT_ROUTE_TIMEOUT_SECONDS = 300;

  private RouteFactory() {}

  public static RouteConfiguration routes(List<Provider> providers, String defaultProvider) {
    VirtualHost.Builder vhost = VirtualHost.newBuilder().setName("llmgw").addDomains("*");
    for (Provider p : providers) {
      vhost.addRoutes(Route.newBuilder()
          .setName("provider_" + p.name())
          .setMatch(RouteMatch.newBuilder()
              .setPrefix("/")
              .addHeaders(HeaderMatcher.newBuilder()
                  .setName(XdsNames.ROUTE_HEADER)
                  .setStringMatch(StringMatcher.newBuilder().setExact(p.name()))))
          .setRoute(toProvider(p)));
    }
    Provider fallback = providers.stream()
        .filter(p -> p.name().equals(defaultProvider))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("defaultProvider: '" + defaultProvider + "' (expected: a listed provider)"));
    vhost.addRoutes(Route.newBuilder()
        .setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(toProvider(fallback)));
    return RouteConfiguration.newBuilder().setName(XdsNames.ROUTE_CONFIG).addVirtualHosts(vhost).build();
  }

  private static RouteAction toProvider(Provider p) {
    return RouteAction.newBuilder()
        .setCluster(XdsNames.providerCluster(p.name()))
        // Providers serve by virtual host; send the Host they expect, not the gateway's.
        .setAutoHostRewrite(BoolValue.of(true))
        // Completions can take minutes; Envoy's 15 s default would cut them off.
        .setTimeout(Durations.fromSeconds(DEFAULT_ROUTE_TIMEOUT_SECONDS))
        .build();
  }
}
