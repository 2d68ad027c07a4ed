package dev.llmgw.controlplane.xds.validation;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.CustomClusterType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.EdsClusterConfig;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster.ClusterWeight;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/** Small, valid Envoy resources shaped like the gateway's, to break one piece at a time. */
final class Fixtures {

  static final String LISTENER = "ingress";
  static final String ROUTES = "llm_routes";
  static final String EXT_PROC = "ext_proc";
  static final String OPENAI = "provider_openai";
  static final String ANTHROPIC = "provider_anthropic";
  static final String FAILOVER = "openai_then_anthropic";
  static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private Fixtures() {}

  static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  static ExternalProcessor extProc() {
    return ExternalProcessor.newBuilder()
        .setGrpcService(GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(EXT_PROC))
            .setTimeout(Durations.fromSeconds(5)))
        .setMessageTimeout(Durations.fromMillis(250))
        .setProcessingMode(ProcessingMode.newBuilder()
            .setRequestBodyMode(ProcessingMode.BodySendMode.BUFFERED)
            .setResponseBodyMode(ProcessingMode.BodySendMode.STREAMED))
        .build();
  }

  static HttpFilter httpFilter(String name, com.google.protobuf.Message config) {
    return HttpFilter.newBuilder()
        .setName(name)
        .setTypedConfig(Any.pack(config))
        .build();
  }

  static HttpConnectionManager hcm(ExternalProcessor extProc) {
    return hcmBuilder(extProc).build();
  }

  static HttpConnectionManager.Builder hcmBuilder(ExternalProcessor extProc) {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix("llmgw")
        .setRds(Rds.newBuilder().setConfigSource(ads()).setRouteConfigName(ROUTES))
        .addHttpFilters(httpFilter("envoy.filters.http.ext_proc", extProc))
        .addHttpFilters(httpFilter("envoy.filters.http.router", Router.getDefaultInstance()))
        .addAccessLog(AccessLog.newBuilder()
            .setName("envoy.access_loggers.stdout")
            .setTypedConfig(Any.pack(StdoutAccessLog.getDefaultInstance())));
  }

  static Listener listener(HttpConnectionManager hcm) {
    return Listener.newBuilder()
        .setName(LISTENER)
        .setAddress(address("0.0.0.0", 10000))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder()
                .setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  static Listener listener() {
    return listener(hcm(extProc()));
  }

  static Address address(String host, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  /** ext-proc replicas over EDS, spoken to over HTTP/2 (gRPC). */
  static Cluster extProcCluster() {
    HttpProtocolOptions http2 = HttpProtocolOptions.newBuilder()
        .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
            .setHttp2ProtocolOptions(
                Http2ProtocolOptions.newBuilder().setMaxConcurrentStreams(UInt32Value.of(1000))))
        .build();
    return Cluster.newBuilder()
        .setName(EXT_PROC)
        .setType(DiscoveryType.EDS)
        .setEdsClusterConfig(EdsClusterConfig.newBuilder().setEdsConfig(ads()))
        .setConnectTimeout(Durations.fromSeconds(1))
        .putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS, Any.pack(http2))
        .build();
  }

  static ClusterLoadAssignment endpoints(String clusterName, String host, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(clusterName)
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address(host, port)))))
        .build();
  }

  static UpstreamTlsContext tls(String sni) {
    return UpstreamTlsContext.newBuilder()
        .setSni(sni)
        .setCommonTlsContext(CommonTlsContext.newBuilder().addAlpnProtocols("h2"))
        .build();
  }

  /** A provider reached over TLS with SNI, resolved with LOGICAL_DNS. */
  static Cluster providerCluster(String name, String host, UpstreamTlsContext tls) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(DiscoveryType.LOGICAL_DNS)
        .setConnectTimeout(Durations.fromSeconds(2))
        .setLoadAssignment(endpoints(name, host, 443))
        .setTransportSocket(TransportSocket.newBuilder()
            .setName("envoy.transport_sockets.tls")
            .setTypedConfig(Any.pack(tls)))
        .build();
  }

  static Cluster openai() {
    return providerCluster(OPENAI, "api.openai.com", tls("api.openai.com"));
  }

  static Cluster anthropic() {
    return providerCluster(ANTHROPIC, "api.anthropic.com", tls("api.anthropic.com"));
  }

  static Cluster aggregate(String name, ClusterConfig config) {
    return Cluster.newBuilder()
        .setName(name)
        .setConnectTimeout(Durations.fromSeconds(1))
        .setClusterType(CustomClusterType.newBuilder()
            .setName("envoy.clusters.aggregate")
            .setTypedConfig(Any.pack(config)))
        .build();
  }

  static Cluster failover() {
    return aggregate(
        FAILOVER,
        ClusterConfig.newBuilder().addClusters(OPENAI).addClusters(ANTHROPIC).build());
  }

  static Route headerRoute(String name, String headerValue, RouteAction action) {
    return Route.newBuilder()
        .setName(name)
        .setMatch(RouteMatch.newBuilder()
            .setPrefix("/")
            .addHeaders(HeaderMatcher.newBuilder()
                .setName("x-llmgw-route")
                .setStringMatch(StringMatcher.newBuilder().setExact(headerValue))))
        .setRoute(action)
        .build();
  }

  static RetryPolicy retries() {
    return RetryPolicy.newBuilder()
        .setRetryOn("5xx,reset,connect-failure")
        .setRetryPriority(RetryPolicy.RetryPriority.newBuilder()
            .setName("envoy.retry_priorities.previous_priorities")
            .setTypedConfig(Any.pack(
                PreviousPrioritiesConfig.newBuilder().setUpdateFrequency(1).build())))
        .addRetryHostPredicate(RetryPolicy.RetryHostPredicate.newBuilder()
            .setName("envoy.retry_host_predicates.previous_hosts")
            .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())))
        .build();
  }

  static WeightedCluster split(String first, int firstWeight, String second, int secondWeight) {
    return WeightedCluster.newBuilder()
        .addClusters(
            ClusterWeight.newBuilder().setName(first).setWeight(UInt32Value.of(firstWeight)))
        .addClusters(
            ClusterWeight.newBuilder().setName(second).setWeight(UInt32Value.of(secondWeight)))
        .build();
  }

  static RouteConfiguration routes(Route... routes) {
    return RouteConfiguration.newBuilder()
        .setName(ROUTES)
        .addVirtualHosts(
            VirtualHost.newBuilder().setName("llm").addDomains("*").addAllRoutes(List.of(routes)))
        .build();
  }

  static RouteConfiguration routes() {
    return routes(
        headerRoute(
            "openai",
            "openai",
            RouteAction.newBuilder()
                .setCluster(FAILOVER)
                .setTimeout(Durations.fromSeconds(120))
                .setRetryPolicy(retries())
                .build()),
        headerRoute(
            "canary",
            "canary",
            RouteAction.newBuilder()
                .setWeightedClusters(split(OPENAI, 80, ANTHROPIC, 20))
                .build()));
  }

  static List<Cluster> clusters() {
    return List.of(extProcCluster(), openai(), anthropic(), failover());
  }

  static List<ClusterLoadAssignment> allEndpoints() {
    return List.of(endpoints(EXT_PROC, "10.0.0.7", 9002));
  }

  static Snapshot snapshot() {
    return Snapshot.create(
        clusters(), allEndpoints(), List.of(listener()), List.of(routes()), List.of(), "1");
  }
}
