package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each resource factory on its own: what Envoy will be told, field by field that matters. */
class ResourceFactoriesTest {

  private static final Provider OPENAI =
      Provider.fromUrl("openai", "https://api.openai.com", Duration.ofSeconds(5));
  private static final Provider LOCAL =
      Provider.fromUrl("local", "http://127.0.0.1:8081", Duration.ofSeconds(2));

  @Test
  void tlsProviderClusterUsesSniAndSanOfTheProviderHost() throws Exception {
    Cluster cluster = ClusterFactory.provider(OPENAI, "/etc/ssl/certs/ca-certificates.crt");

    assertThat(cluster.getName()).isEqualTo("llmgw_provider_openai");
    assertThat(cluster.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
    assertThat(cluster.getConnectTimeout().getSeconds()).isEqualTo(5);
    assertThat(cluster
            .getLoadAssignment()
            .getEndpoints(0)
            .getLbEndpoints(0)
            .getEndpoint()
            .getAddress()
            .getSocketAddress()
            .getPortValue())
        .isEqualTo(443);
    UpstreamTlsContext tls =
        cluster.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(tls.getSni()).isEqualTo("api.openai.com");
    assertThat(tls.getCommonTlsContext().getValidationContext().getTrustedCa().getFilename())
        .isEqualTo("/etc/ssl/certs/ca-certificates.crt");
    HttpProtocolOptions options = cluster
        .getTypedExtensionProtocolOptionsOrThrow(ClusterFactory.HTTP_PROTOCOL_OPTIONS_KEY)
        .unpack(HttpProtocolOptions.class);
    assertThat(options.getUpstreamHttpProtocolOptions().getAutoSni()).isTrue();
    assertThat(options.getUpstreamHttpProtocolOptions().getAutoSanValidation()).isTrue();
  }

  @Test
  void activeHealthChecksUseTheProviderHostAndCountAnyAnswerBelow500AsUp() {
    Provider checked = OPENAI.withHealthCheck(new dev.llmgw.controlplane.model.HealthCheck(
        "/v1/models", Duration.ofSeconds(15), Duration.ofSeconds(3), 3, 2));
    Cluster cluster = ClusterFactory.provider(checked, "/etc/ssl/certs/ca-certificates.crt");

    assertThat(ClusterFactory.provider(OPENAI, "/ca").getHealthChecksList()).isEmpty();
    assertThat(cluster.getHealthChecksList()).singleElement().satisfies(h -> {
      assertThat(h.getInterval().getSeconds()).isEqualTo(15);
      assertThat(h.getTimeout().getSeconds()).isEqualTo(3);
      assertThat(h.getUnhealthyThreshold().getValue()).isEqualTo(3);
      assertThat(h.getHealthyThreshold().getValue()).isEqualTo(2);
      assertThat(h.getHttpHealthCheck().getHost()).isEqualTo("api.openai.com");
      assertThat(h.getHttpHealthCheck().getPath()).isEqualTo("/v1/models");
      assertThat(h.getHttpHealthCheck().getExpectedStatuses(0).getStart()).isEqualTo(200);
      assertThat(h.getHttpHealthCheck().getExpectedStatuses(0).getEnd()).isEqualTo(500);
    });
    assertThat(new dev.llmgw.controlplane.xds.validation.EnvoyValidator().validate(cluster))
        .isEmpty();
  }

  @Test
  void gatewayHeadersNeverReachAProviderButTheCallersAuthorizationDoes() {
    io.envoyproxy.envoy.config.route.v3.RouteConfiguration routes = RouteFactory.routes(
        List.of(OPENAI), "openai", List.of(), java.util.Set.of("x-tenant-id", "authorization"));
    assertThat(routes.getVirtualHosts(0).getRequestHeadersToRemoveList())
        .contains(
            "x-llmgw-route",
            "x-llmgw-api-key",
            "x-llmgw-tenant",
            "x-llmgw-application",
            "x-llmgw-user",
            "x-tenant-id")
        .doesNotContain("authorization");
    assertThat(new dev.llmgw.controlplane.xds.validation.EnvoyValidator().validate(routes))
        .isEmpty();
  }

  @Test
  void aNamedRouteCanAlsoMatchOnPathPrefixAndTheResolvedTenant() {
    dev.llmgw.controlplane.model.Route chat = new dev.llmgw.controlplane.model.Route(
        "chat",
        List.of(new dev.llmgw.controlplane.model.Route.Target("openai", 1, 0)),
        null,
        Duration.ofSeconds(60),
        null,
        new dev.llmgw.controlplane.model.Route.Match("/v1/chat/", "acme"));
    io.envoyproxy.envoy.config.route.v3.RouteConfiguration routes =
        RouteFactory.routes(List.of(OPENAI), "openai", List.of(chat));
    io.envoyproxy.envoy.config.route.v3.RouteMatch match =
        routes.getVirtualHosts(0).getRoutes(0).getMatch();
    assertThat(match.getPrefix()).isEqualTo("/v1/chat/");
    assertThat(match.getHeadersList())
        .extracting(h -> h.getName() + "=" + h.getStringMatch().getExact())
        .containsExactly("x-llmgw-route=chat", "x-llmgw-tenant=acme");
    assertThat(routes.getVirtualHosts(0).getRoutes(1).getName())
        .as("the provider route still follows")
        .isEqualTo("provider_openai");
    assertThat(new dev.llmgw.controlplane.xds.validation.EnvoyValidator().validate(routes))
        .isEmpty();
  }

  @Test
  void plainHttpProviderClusterHasNoTransportSocket() throws Exception {
    Cluster cluster = ClusterFactory.provider(LOCAL, "/unused");

    assertThat(cluster.hasTransportSocket()).isFalse();
    HttpProtocolOptions options = cluster
        .getTypedExtensionProtocolOptionsOrThrow(ClusterFactory.HTTP_PROTOCOL_OPTIONS_KEY)
        .unpack(HttpProtocolOptions.class);
    assertThat(options.hasUpstreamHttpProtocolOptions()).isFalse();
    assertThat(options.getExplicitHttpConfig().hasHttpProtocolOptions()).isTrue();
  }

  @Test
  void extProcClusterSpeaksHttp2AndTakesEndpointsFromAds() throws Exception {
    Cluster cluster = ClusterFactory.extProc(Duration.ofMillis(250), null);

    assertThat(cluster.hasTransportSocket()).as("plaintext without TLS files").isFalse();
    assertThat(cluster.getName()).isEqualTo(XdsNames.EXT_PROC_CLUSTER);
    assertThat(cluster.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(cluster.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
    assertThat(cluster.getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    assertThat(cluster
            .getTypedExtensionProtocolOptionsOrThrow(ClusterFactory.HTTP_PROTOCOL_OPTIONS_KEY)
            .unpack(HttpProtocolOptions.class)
            .getExplicitHttpConfig()
            .hasHttp2ProtocolOptions())
        .isTrue();
  }

  @Test
  void withTlsFilesEnvoyReachesExtProcOverMutualTlsFromSecretsNamingTheFiles() throws Exception {
    ExtProcTls tls = new ExtProcTls("/tls/envoy.crt", "/tls/envoy.key", "/tls/ca.crt");

    Cluster cluster = ClusterFactory.extProc(Duration.ofMillis(250), tls);

    assertThat(cluster.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
    CommonTlsContext context = cluster
        .getTransportSocket()
        .getTypedConfig()
        .unpack(UpstreamTlsContext.class)
        .getCommonTlsContext();
    assertThat(context.getAlpnProtocolsList()).containsExactly("h2");
    assertThat(context.getTlsCertificateSdsSecretConfigsList()).singleElement().satisfies(c -> {
      assertThat(c.getName()).isEqualTo(XdsNames.EXT_PROC_CLIENT_CERTIFICATE_SECRET);
      assertThat(c.getSdsConfig().hasAds()).isTrue();
    });
    assertThat(context.getValidationContextSdsSecretConfig().getName())
        .isEqualTo(XdsNames.EXT_PROC_TRUSTED_CA_SECRET);
    assertThat(SecretFactory.extProcTls(tls))
        .extracting(
            Secret::getName,
            s -> s.getTlsCertificate().getCertificateChain().getFilename(),
            s -> s.getTlsCertificate().getPrivateKey().getFilename(),
            s -> s.getValidationContext().getTrustedCa().getFilename())
        .containsExactly(
            tuple(
                XdsNames.EXT_PROC_CLIENT_CERTIFICATE_SECRET,
                "/tls/envoy.crt",
                "/tls/envoy.key",
                ""),
            tuple(XdsNames.EXT_PROC_TRUSTED_CA_SECRET, "", "", "/tls/ca.crt"));
  }

  @Test
  void listenerRunsExtProcBeforeRouterAndFetchesRoutesOverAds() throws Exception {
    Listener listener = ListenerFactory.ingress(10000, Duration.ofMillis(800));

    assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(10000);
    HttpConnectionManager hcm = listener
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo(XdsNames.ROUTE_CONFIG);
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList())
        .extracting(HttpFilter::getName)
        .containsExactly(
            "envoy.filters.http.ext_proc", "llmgw.ext_proc.fail_open", "envoy.filters.http.router");
    ExternalProcessor extProc =
        hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class);
    assertThat(extProc.getGrpcService().getEnvoyGrpc().getClusterName())
        .isEqualTo(XdsNames.EXT_PROC_CLUSTER);
    assertThat(extProc.getFailureModeAllow()).isFalse();
    assertThat(extProc.getAllowModeOverride()).isTrue();
    assertThat(extProc.getMessageTimeout().getNanos()).isEqualTo(800_000_000);
    assertThat(extProc.getProcessingMode().getRequestHeaderMode())
        .isEqualTo(ProcessingMode.HeaderSendMode.SEND);
    assertThat(extProc.getProcessingMode().getRequestBodyMode())
        .isEqualTo(ProcessingMode.BodySendMode.NONE);
    assertThat(extProc.getMetadataOptions().getReceivingNamespaces().getUntypedList())
        .containsExactly(XdsNames.METADATA_NAMESPACE);
    assertThat(extProc.getResponseAttributesList())
        .as("ext-proc learns with each response which provider's host served it")
        .containsExactly("xds.upstream_host_metadata.filter_metadata.llmgw.provider");
    assertThat(hcm.getAccessLogList())
        .singleElement()
        .satisfies(log ->
            assertThat(log.getTypedConfig().toString()).contains("%DYNAMIC_METADATA(llmgw)%"));
  }

  @Test
  void theAccessLogNamesTheRouteFromExtProcAndTheProviderFromTheHostThatServed() {
    assertThat(ListenerFactory.ACCESS_LOG_FIELDS)
        .containsEntry("route", "%DYNAMIC_METADATA(llmgw:route)%")
        .containsEntry("provider", "%UPSTREAM_METADATA(llmgw:provider)%")
        .containsEntry("api", "%DYNAMIC_METADATA(llmgw:api)%")
        .as("the route header is removed before the request leaves; the log cannot read it")
        .doesNotContainValue("%REQ(X-LLMGW-ROUTE)%");
  }

  @Test
  void aProviderClustersHostIsTaggedWithTheProvidersName() {
    Cluster cluster = ClusterFactory.provider(LOCAL, "/ca");

    assertThat(cluster.getLoadAssignment().getClusterName()).isEqualTo("llmgw_provider_local");
    assertThat(cluster.getLoadAssignment().getEndpoints(0).getLbEndpointsList())
        .singleElement()
        .satisfies(e -> assertThat(e.getMetadata()
                .getFilterMetadataOrThrow(XdsNames.METADATA_NAMESPACE)
                .getFieldsOrThrow(XdsNames.PROVIDER_METADATA_KEY)
                .getStringValue())
            .isEqualTo("local"));
    assertThat(new dev.llmgw.controlplane.xds.validation.EnvoyValidator().validate(cluster))
        .isEmpty();
  }

  @Test
  void routesMatchTheRouteHeaderAndFallBackToTheDefaultProviderLast() {
    RouteConfiguration config = RouteFactory.routes(List.of(OPENAI, LOCAL), "local");

    List<Route> routes = config.getVirtualHosts(0).getRoutesList();
    assertThat(routes).hasSize(3);
    assertThat(routes.get(0).getMatch().getHeaders(0).getName()).isEqualTo(XdsNames.ROUTE_HEADER);
    assertThat(routes.get(0).getMatch().getHeaders(0).getStringMatch().getExact())
        .isEqualTo("openai");
    assertThat(routes.get(0).getRoute().getCluster()).isEqualTo("llmgw_provider_openai");
    assertThat(routes.get(0).getRoute().getAutoHostRewrite().getValue()).isTrue();
    assertThat(routes.get(2).getMatch().getHeadersList()).isEmpty();
    assertThat(routes.get(2).getRoute().getCluster()).isEqualTo("llmgw_provider_local");
    assertThat(routes.get(2).getRoute().getTimeout().getSeconds())
        .isEqualTo(RouteFactory.DEFAULT_ROUTE_TIMEOUT_SECONDS);
  }
}
