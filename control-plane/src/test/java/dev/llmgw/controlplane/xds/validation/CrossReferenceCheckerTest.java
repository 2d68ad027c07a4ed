package dev.llmgw.controlplane.xds.validation;

import static dev.llmgw.controlplane.xds.validation.Fixtures.ANTHROPIC;
import static dev.llmgw.controlplane.xds.validation.Fixtures.EXT_PROC;
import static dev.llmgw.controlplane.xds.validation.Fixtures.OPENAI;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrossReferenceCheckerTest {

  private final CrossReferenceChecker checker = CrossReferenceChecker.standalone();

  @Test
  void acceptsAWholeSnapshot() {
    assertThat(checker.check(Fixtures.snapshot())).isEmpty();
    checker.requireWhole(Fixtures.snapshot());
  }

  @Test
  void findsRouteToMissingCluster() {
    RouteConfiguration routes = Fixtures.routes(Fixtures.headerRoute(
        "gone", "gone", RouteAction.newBuilder().setCluster("provider_gone").build()));

    assertThat(check(Fixtures.clusters(), List.of(Fixtures.listener()), routes))
        .containsExactly(
            "route configuration 'llm_routes': virtual_hosts[0].routes[0].route.cluster names"
                + " cluster 'provider_gone', which does not exist (served clusters: [ext_proc,"
                + " openai_then_anthropic, provider_anthropic, provider_openai])");
  }

  @Test
  void findsMissingClusterInWeightedSplit() {
    RouteConfiguration routes = Fixtures.routes(Fixtures.headerRoute(
        "split",
        "split",
        RouteAction.newBuilder()
            .setWeightedClusters(Fixtures.split(OPENAI, 50, "provider_gone", 50))
            .build()));

    assertThat(check(Fixtures.clusters(), List.of(Fixtures.listener()), routes))
        .singleElement()
        .asString()
        .startsWith("route configuration 'llm_routes':"
            + " virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].name names"
            + " cluster 'provider_gone'");
  }

  @Test
  void findsAggregateClusterListingMissingCluster() {
    List<Cluster> clusters = new ArrayList<>(Fixtures.clusters());
    clusters.set(
        3,
        Fixtures.aggregate(
            Fixtures.FAILOVER,
            ClusterConfig.newBuilder()
                .addClusters(OPENAI)
                .addClusters("provider_mistral")
                .build()));

    assertThat(check(clusters, List.of(Fixtures.listener()), Fixtures.routes()))
        .singleElement()
        .asString()
        .startsWith(
            "cluster 'openai_then_anthropic': cluster_type.typed_config(ClusterConfig).clusters[1]"
                + " names cluster 'provider_mistral'");
  }

  @Test
  void findsExtProcFilterNamingMissingCluster() {
    List<Cluster> clusters = Fixtures.clusters().subList(1, 4); // without ext_proc

    assertThat(checker.check(
            clusters,
            List.of(),
            List.of(Fixtures.listener()),
            List.of(Fixtures.routes()),
            List.of()))
        .singleElement()
        .asString()
        .startsWith(
            "listener 'ingress': filter_chains[0].filters[0].typed_config(HttpConnectionManager)"
                + ".http_filters[0].typed_config(ExternalProcessor).grpc_service.envoy_grpc.cluster_name"
                + " names cluster 'ext_proc', which does not exist");
  }

  @Test
  void acceptsClustersKnownFromTheBootstrap() {
    ExternalProcessor viaStatic = Fixtures.extProc().toBuilder()
        .setGrpcService(GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("static_ext_proc")))
        .build();
    Listener listener = Fixtures.listener(Fixtures.hcm(viaStatic));
    Bootstrap bootstrap = Bootstrap.newBuilder()
        .setStaticResources(Bootstrap.StaticResources.newBuilder()
            .addClusters(
                Fixtures.providerCluster("static_ext_proc", "ext-proc", Fixtures.tls("ext-proc"))))
        .build();

    assertThat(checker.check(
            Fixtures.clusters(),
            Fixtures.allEndpoints(),
            List.of(listener),
            List.of(Fixtures.routes()),
            List.of()))
        .hasSize(1);
    assertThat(CrossReferenceChecker.alongside(bootstrap)
            .check(
                Fixtures.clusters(),
                Fixtures.allEndpoints(),
                List.of(listener),
                List.of(Fixtures.routes()),
                List.of()))
        .isEmpty();
  }

  @Test
  void findsRdsNameNobodyServes() {
    Listener listener = Fixtures.listener(Fixtures.hcmBuilder(Fixtures.extProc())
        .setRds(
            Rds.newBuilder().setConfigSource(Fixtures.ads()).setRouteConfigName("llm_routes_v2"))
        .build());

    assertThat(check(Fixtures.clusters(), List.of(listener), Fixtures.routes()))
        .containsExactly("listener 'ingress':"
            + " filter_chains[0].filters[0].typed_config(HttpConnectionManager).rds.route_config_name"
            + " fetches route configuration 'llm_routes_v2' over RDS, but no route"
            + " configuration of that name is served (served: [llm_routes])");
  }

  @Test
  void findsEdsClusterWithoutEndpoints() {
    ClusterLoadAssignment empty = ClusterLoadAssignment.newBuilder()
        .setClusterName(EXT_PROC)
        .addEndpoints(LocalityLbEndpoints.getDefaultInstance())
        .build();

    assertThat(checker.check(
            Fixtures.clusters(),
            List.of(),
            List.of(Fixtures.listener()),
            List.of(Fixtures.routes()),
            List.of()))
        .containsExactly(
            "cluster 'ext_proc' is of type EDS, but no cluster load assignment named 'ext_proc' is"
                + " served, so it has no endpoints");
    assertThat(checker.check(
            Fixtures.clusters(),
            List.of(empty),
            List.of(Fixtures.listener()),
            List.of(Fixtures.routes()),
            List.of()))
        .containsExactly(
            "cluster 'ext_proc' is of type EDS, but its cluster load assignment 'ext_proc' has no"
                + " lb_endpoints");
  }

  @Test
  void findsLogicalDnsClusterWithoutExactlyOneEndpoint() {
    Cluster twoHosts = Fixtures.anthropic().toBuilder()
        .setLoadAssignment(Fixtures.endpoints(ANTHROPIC, "a.example", 443).toBuilder()
            .addEndpoints(Fixtures.endpoints(ANTHROPIC, "b.example", 443).getEndpoints(0)))
        .build();
    List<Cluster> clusters = new ArrayList<>(Fixtures.clusters());
    clusters.set(2, twoHosts);

    assertThat(check(clusters, List.of(Fixtures.listener()), Fixtures.routes()))
        .singleElement()
        .asString()
        .startsWith(
            "cluster 'provider_anthropic' is of type LOGICAL_DNS, whose load_assignment must hold"
                + " exactly one");
  }

  @Test
  void findsDuplicateAndEmptyNames() {
    List<Cluster> clusters = new ArrayList<>(Fixtures.clusters());
    clusters.add(Fixtures.openai());
    clusters.add(Fixtures.openai().toBuilder().setName("").build());

    assertThat(checker.check(
            clusters,
            Fixtures.allEndpoints(),
            List.of(Fixtures.listener(), Fixtures.listener()),
            List.of(Fixtures.routes()),
            List.of()))
        .contains(
            "2 clusters are named 'provider_openai'; names must be unique within each kind",
            "1 cluster has an empty name; every xDS resource needs a unique name",
            "2 listeners are named 'ingress'; names must be unique within each kind");
  }

  @Test
  void findsSdsSecretNobodyServes() {
    DownstreamTlsContext tls = DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder()
            .addTlsCertificateSdsSecretConfigs(
                SdsSecretConfig.newBuilder().setName("ingress_cert").setSdsConfig(Fixtures.ads())))
        .build();
    Listener listener = Fixtures.listener().toBuilder()
        .setFilterChains(
            0,
            Fixtures.listener().getFilterChains(0).toBuilder()
                .setTransportSocket(TransportSocket.newBuilder()
                    .setName("envoy.transport_sockets.tls")
                    .setTypedConfig(Any.pack(tls))))
        .build();
    Secret cert = Secret.newBuilder().setName("ingress_cert").build();

    assertThat(checker.check(
            Fixtures.clusters(),
            Fixtures.allEndpoints(),
            List.of(listener),
            List.of(Fixtures.routes()),
            List.of()))
        .containsExactly("listener 'ingress':"
            + " filter_chains[0].transport_socket.typed_config(DownstreamTlsContext)"
            + ".common_tls_context.tls_certificate_sds_secret_configs[0].name"
            + " fetches secret 'ingress_cert' over SDS (ADS), but no secret of that name is"
            + " served");
    assertThat(checker.check(
            Fixtures.clusters(),
            Fixtures.allEndpoints(),
            List.of(listener),
            List.of(Fixtures.routes()),
            List.of(cert)))
        .isEmpty();
  }

  @Test
  void doesNotJudgeClustersChosenAtRequestTime() {
    RouteConfiguration routes = Fixtures.routes(Fixtures.headerRoute(
        "dynamic",
        "dynamic",
        RouteAction.newBuilder().setClusterHeader("x-llmgw-cluster").build()));

    assertThat(check(Fixtures.clusters(), List.of(Fixtures.listener()), routes)).isEmpty();
  }

  @Test
  void requiresAdsClusterOfABootstrapToBeStatic() {
    Bootstrap bootstrap = Bootstrap.newBuilder()
        .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
            .setAdsConfig(io.envoyproxy.envoy.config.core.v3.ApiConfigSource.newBuilder()
                .setApiType(io.envoyproxy.envoy.config.core.v3.ApiConfigSource.ApiType.GRPC)
                .addGrpcServices(GrpcService.newBuilder()
                    .setEnvoyGrpc(
                        GrpcService.EnvoyGrpc.newBuilder().setClusterName("xds_cluster"))))
            .setCdsConfig(Fixtures.ads()))
        .build();

    assertThat(checker.checkStatic(bootstrap))
        .singleElement()
        .asString()
        .startsWith(
            "bootstrap: dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name names"
                + " cluster 'xds_cluster', which does not exist");
  }

  @Test
  void requireWholeListsEveryProblem() {
    List<Cluster> clusters = List.of(Fixtures.extProcCluster());

    assertThatThrownBy(() -> checker.requireWhole(
            clusters,
            List.of(),
            List.of(Fixtures.listener()),
            List.of(Fixtures.routes()),
            List.of()))
        .isInstanceOf(IncompleteConfigException.class)
        .hasMessageStartingWith("Envoy configuration is not whole: 4 problems:")
        .hasMessageContaining("names cluster 'openai_then_anthropic'")
        .hasMessageContaining("names cluster 'provider_openai'")
        .hasMessageContaining("names cluster 'provider_anthropic'")
        .hasMessageContaining("cluster 'ext_proc' is of type EDS")
        .satisfies(e -> assertThat(((IncompleteConfigException) e).problems()).hasSize(4));
  }

  private List<String> check(
      List<Cluster> clusters, List<Listener> listeners, RouteConfiguration routes) {
    return checker.check(clusters, Fixtures.allEndpoints(), listeners, List.of(routes), List.of());
  }
}
