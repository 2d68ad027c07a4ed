package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.controlplane.model.Credential;
import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import dev.llmgw.controlplane.model.Route.Target;
import dev.llmgw.controlplane.xds.validation.CrossReferenceChecker;
import dev.llmgw.controlplane.xds.validation.EnvoyValidator;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.credential_injector.v3.CredentialInjector;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.http.injected_credentials.generic.v3.Generic;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Weighted splits, failover chains, retries and credentials, as Envoy will receive them. */
class RoutingTranslationTest {

  private static final Provider OPENAI = Provider.fromUrl(
      "openai",
      "https://api.openai.com",
      Duration.ofSeconds(5),
      new Credential("Authorization", "Bearer sk-test-secret"));
  private static final Provider AZURE = Provider.fromUrl(
      "azure",
      "https://example.openai.azure.com",
      Duration.ofSeconds(5),
      new Credential("api-key", "azure-secret"));
  private static final Provider BACKUP =
      Provider.fromUrl("backup", "http://10.0.0.9:8080", Duration.ofSeconds(1));
  private static final Route.Retry RETRY =
      new Route.Retry(2, Duration.ofSeconds(30), Duration.ofMillis(250), 25.0);

  private static final Route SPLIT = new Route(
      "chat-split",
      List.of(new Target("openai", 80, 0), new Target("azure", 20, 0)),
      RETRY,
      Duration.ZERO,
      Duration.ofSeconds(60));
  private static final Route FAILOVER = new Route(
      "chat-failover",
      List.of(new Target("backup", 1, 2), new Target("openai", 1, 0), new Target("azure", 1, 1)),
      RETRY,
      Duration.ofSeconds(120),
      null);
  private static final Route SINGLE =
      new Route("embed", List.of(new Target("openai", 1, 0)), null, Duration.ofSeconds(30), null);

  static GatewaySpec spec() {
    return new GatewaySpec(
        10000,
        List.of(new Endpoint("127.0.0.1", 9002)),
        Duration.ofSeconds(1),
        List.of(OPENAI, AZURE, BACKUP),
        "openai",
        "/etc/ssl/certs/ca-certificates.crt",
        List.of(SPLIT, FAILOVER, SINGLE));
  }

  @Test
  void weightedSplitBecomesWeightedClustersWithRetriesToOtherHosts() {
    RouteAction action = RouteFactory.action(SPLIT);

    assertThat(action.getWeightedClusters().getClustersList())
        .extracting(c -> c.getName() + "=" + c.getWeight().getValue())
        .containsExactly("llmgw_provider_openai=80", "llmgw_provider_azure=20");
    assertThat(action.getTimeout().getSeconds())
        .as("0 disables the timeout for long streams")
        .isZero();
    assertThat(action.getIdleTimeout().getSeconds()).isEqualTo(60);
    assertThat(action.getRetryPolicy().getRetryOn())
        .isEqualTo("retriable-status-codes,5xx,reset,connect-failure");
    assertThat(action.getRetryPolicy().getRetriableStatusCodesList()).containsExactly(429);
    assertThat(action.getRetryPolicy().getNumRetries().getValue()).isEqualTo(2);
    assertThat(action.getRetryPolicy().getRetryHostPredicate(0).getName())
        .isEqualTo("envoy.retry_host_predicates.previous_hosts");
    assertThat(action.getRetryPolicy().hasRetryPriority()).isFalse();
    assertThat(action.getRetryPolicy().getRetryBackOff().getMaxInterval().getNanos())
        .isEqualTo(500_000_000);
  }

  @Test
  void failoverBecomesAnAggregateClusterInPriorityOrderAndRetriesMoveToTheNextPriority()
      throws Exception {
    Snapshot snapshot = SnapshotFactory.snapshot(spec(), "7");
    Cluster aggregate = snapshot.clusters().resources().get("llmgw_failover_chat-failover");

    assertThat(aggregate.getClusterType().getName()).isEqualTo("envoy.clusters.aggregate");
    assertThat(aggregate.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    assertThat(aggregate
            .getClusterType()
            .getTypedConfig()
            .unpack(ClusterConfig.class)
            .getClustersList())
        .containsExactly("llmgw_provider_openai", "llmgw_provider_azure", "llmgw_provider_backup");
    RouteAction action = RouteFactory.action(FAILOVER);
    assertThat(action.getCluster()).isEqualTo("llmgw_failover_chat-failover");
    assertThat(action.getRetryPolicy().getRetryPriority().getName())
        .isEqualTo("envoy.retry_priorities.previous_priorities");
  }

  @Test
  void providerClustersEjectFailingHostsAndBoundRetries() {
    Cluster openai =
        SnapshotFactory.snapshot(spec(), "1").clusters().resources().get("llmgw_provider_openai");

    assertThat(openai.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(5);
    assertThat(openai.getOutlierDetection().getMaxEjectionPercent().getValue()).isEqualTo(100);
    assertThat(openai
            .getCircuitBreakers()
            .getThresholds(0)
            .getRetryBudget()
            .getBudgetPercent()
            .getValue())
        .as("the largest budget of the routes using it")
        .isEqualTo(25.0);
  }

  @Test
  void credentialsTravelAsSdsSecretsInjectedUpstreamNeverInRoutes() throws Exception {
    Snapshot snapshot = SnapshotFactory.snapshot(spec(), "1");

    Secret secret = snapshot.secrets().resources().get("llmgw_credential_openai");
    assertThat(secret.getGenericSecret().getSecret().getInlineString())
        .isEqualTo("Bearer sk-test-secret");
    assertThat(snapshot.secrets().resources())
        .containsOnlyKeys("llmgw_credential_openai", "llmgw_credential_azure");
    HttpProtocolOptions options = snapshot
        .clusters()
        .resources()
        .get("llmgw_provider_azure")
        .getTypedExtensionProtocolOptionsOrThrow(ClusterFactory.HTTP_PROTOCOL_OPTIONS_KEY)
        .unpack(HttpProtocolOptions.class);
    assertThat(options.getHttpFiltersList())
        .extracting(f -> f.getName())
        .containsExactly(
            "envoy.filters.http.header_mutation",
            "envoy.filters.http.credential_injector",
            "envoy.filters.http.upstream_codec");
    // The caller's keys go first, in every header LLM APIs use, so only the configured one arrives.
    HeaderMutation remover =
        options.getHttpFilters(0).getTypedConfig().unpack(HeaderMutation.class);
    assertThat(remover.getMutations().getRequestMutationsList())
        .extracting(m -> m.getRemove())
        .containsExactly("authorization", "x-api-key", "api-key", "x-goog-api-key");
    CredentialInjector injector =
        options.getHttpFilters(1).getTypedConfig().unpack(CredentialInjector.class);
    assertThat(injector.getOverwrite()).isTrue();
    Generic generic = injector.getCredential().getTypedConfig().unpack(Generic.class);
    assertThat(generic.getHeader()).isEqualTo("api-key");
    assertThat(generic.getCredential().getName()).isEqualTo("llmgw_credential_azure");
    RouteConfiguration routes = snapshot.routes().resources().get(XdsNames.ROUTE_CONFIG);
    assertThat(routes.toString()).doesNotContain("sk-test-secret").doesNotContain("azure-secret");
    assertThat(SnapshotFactory.snapshot(spec(), "1")
            .clusters()
            .resources()
            .get("llmgw_provider_backup")
            .getTypedExtensionProtocolOptionsOrThrow(ClusterFactory.HTTP_PROTOCOL_OPTIONS_KEY)
            .unpack(HttpProtocolOptions.class)
            .getHttpFiltersCount())
        .as("no credential, no upstream filters")
        .isZero();
  }

  @Test
  void namedRoutesComeBeforeProviderRoutesAndTheDefault() {
    RouteConfiguration config =
        RouteFactory.routes(spec().providers(), "openai", spec().routes());

    assertThat(config.getVirtualHosts(0).getRoutesList())
        .extracting(r -> r.getName())
        .containsExactly(
            "route_chat-split",
            "route_chat-failover",
            "route_embed",
            "provider_openai",
            "provider_azure",
            "provider_backup",
            "default");
  }

  @Test
  void snapshotWithSplitsFailoverAndCredentialsPassesEnvoysRulesAndIsWhole() {
    Snapshot snapshot = SnapshotFactory.snapshot(spec(), "1");

    assertThat(new EnvoyValidator().validate(snapshot)).isEmpty();
    assertThat(CrossReferenceChecker.standalone().check(snapshot)).isEmpty();
  }

  @Test
  void invalidRoutesAreRejectedNamingTheField() {
    assertThatThrownBy(() -> new Route(
            "mixed",
            List.of(
                new Target("openai", 1, 0), new Target("azure", 1, 0), new Target("backup", 1, 1)),
            null,
            Duration.ZERO,
            null))
        .hasMessageContaining("mixes a weighted split with failover");
    assertThatThrownBy(() -> new GatewaySpec(
            10000,
            List.of(new Endpoint("127.0.0.1", 9002)),
            Duration.ofSeconds(1),
            List.of(OPENAI),
            "openai",
            "/ca",
            List.of(new Route("x", List.of(new Target("nope", 1, 0)), null, Duration.ZERO, null))))
        .hasMessageContaining("routes['x'].targets: unknown provider 'nope'");
    assertThatThrownBy(() -> new GatewaySpec(
            10000,
            List.of(new Endpoint("127.0.0.1", 9002)),
            Duration.ofSeconds(1),
            List.of(OPENAI),
            "openai",
            "/ca",
            List.of(new Route(
                "openai", List.of(new Target("openai", 1, 0)), null, Duration.ZERO, null))))
        .hasMessageContaining("implicit route of provider 'openai'");
    assertThat(new Credential("Authorization", "Bearer x").toString()).doesNotContain("Bearer x");
  }
}
