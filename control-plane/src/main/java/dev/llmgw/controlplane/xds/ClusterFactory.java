package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.EdsClusterConfig;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import io.envoyproxy.envoy.type.v3.Percent;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Builds Envoy clusters: one per provider, and one for the ext-proc replicas. Pure functions. */
public final class ClusterFactory {

  /** Key Envoy uses to find upstream HTTP protocol options in {@code typed_extension_protocol_options}. */
  static final String HTTP_PROTOCOL_OPTIONS_KEY =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
  static final double DEFAULT_RETRY_BUDGET_PERCENT = 20.0;
  static final String AGGREGATE_CLUSTER = "envoy.clusters.aggregate";
  static final String UPSTREAM_CODEC_FILTER = "envoy.filters.http.upstream_codec";

  private ClusterFactory() {}

  /**
   * A provider cluster. Providers sit behind changing DNS answers, so the cluster is LOGICAL_DNS
   * (one connection pool, re-resolved) with the endpoint inline. With TLS the SNI and the
   * certificate's SAN are taken from the host Envoy connects to.
   */
  public static Cluster provider(Provider provider, String trustedCaFile) {
    return provider(provider, trustedCaFile, DEFAULT_RETRY_BUDGET_PERCENT);
  }

  /**
   * A provider cluster with outlier detection (a provider answering 5xx or failing to connect is
   * ejected, so a failover chain moves past it) and a retry budget, so retries can never multiply
   * load on a struggling provider beyond {@code retryBudgetPercent} of active requests.
   */
  public static Cluster provider(
      Provider provider, String trustedCaFile, double retryBudgetPercent) {
    Cluster.Builder cluster = Cluster.newBuilder()
        .setOutlierDetection(OutlierDetection.newBuilder()
            .setConsecutive5Xx(UInt32Value.of(5))
            .setConsecutiveGatewayFailure(UInt32Value.of(3))
            .setInterval(Durations.fromSeconds(10))
            .setBaseEjectionTime(Durations.fromSeconds(30))
            // Provider clusters have one logical host; it must be ejectable for failover to happen.
            .setMaxEjectionPercent(UInt32Value.of(100)))
        .setCircuitBreakers(CircuitBreakers.newBuilder()
            .addThresholds(CircuitBreakers.Thresholds.newBuilder()
                .setRetryBudget(CircuitBreakers.Thresholds.RetryBudget.newBuilder()
                    .setBudgetPercent(Percent.newBuilder().setValue(retryBudgetPercent))
                    .setMinRetryConcurrency(UInt32Value.of(3)))))
        .setName(XdsNames.providerCluster(provider.name()))
        .setType(DiscoveryType.LOGICAL_DNS)
        .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_PREFERRED)
        .setConnectTimeout(duration(provider.connectTimeout()))
        .setLoadAssignment(EndpointFactory.provider(provider));
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.Builder protocol =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setCommonHttpProtocolOptions(
                HttpProtocolOptions.newBuilder().setIdleTimeout(Durations.fromSeconds(60)))
            .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
                .setHttpProtocolOptions(
                    io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance()));
    if (provider.credential() != null) {
      // The credential stays out of routes and logs: an upstream filter injects it from an SDS
      // secret.
      protocol
          .addHttpFilters(SecretFactory.callerCredentialRemover())
          .addHttpFilters(SecretFactory.credentialInjector(provider))
          .addHttpFilters(HttpFilter.newBuilder()
              .setName(UPSTREAM_CODEC_FILTER)
              .setTypedConfig(Any.pack(UpstreamCodec.getDefaultInstance())));
    }
    if (provider.tls()) {
      protocol.setUpstreamHttpProtocolOptions(
          UpstreamHttpProtocolOptions.newBuilder().setAutoSni(true).setAutoSanValidation(true));
      UpstreamTlsContext tls = UpstreamTlsContext.newBuilder()
          .setSni(provider.sni())
          .setCommonTlsContext(CommonTlsContext.newBuilder()
              .setValidationContext(CertificateValidationContext.newBuilder()
                  .setTrustedCa(DataSource.newBuilder().setFilename(trustedCaFile))))
          .build();
      cluster.setTransportSocket(
          TransportSocket.newBuilder().setName(TLS_TRANSPORT_SOCKET).setTypedConfig(Any.pack(tls)));
    }
    cluster.putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS_KEY, Any.pack(protocol.build()));
    if (provider.healthCheck() != null) {
      cluster.addHealthChecks(healthCheck(provider));
    }
    return cluster.build();
  }

  /**
   * Active HTTP health checking with the provider's own host name; health checks carry no credential,
   * so every answer below 500 (a 401 included) means the provider is up. The provider must have a
   * health check.
   */
  static io.envoyproxy.envoy.config.core.v3.HealthCheck healthCheck(Provider provider) {
    dev.llmgw.controlplane.model.HealthCheck h =
        requireNonNull(provider.healthCheck(), "provider without a health check");
    return io.envoyproxy.envoy.config.core.v3.HealthCheck.newBuilder()
        .setTimeout(duration(h.timeout()))
        .setInterval(duration(h.interval()))
        .setUnhealthyThreshold(UInt32Value.of(h.unhealthyThreshold()))
        .setHealthyThreshold(UInt32Value.of(h.healthyThreshold()))
        .setHttpHealthCheck(
            io.envoyproxy.envoy.config.core.v3.HealthCheck.HttpHealthCheck.newBuilder()
                .setHost(provider.sni())
                .setPath(h.path())
                .addExpectedStatuses(io.envoyproxy.envoy.type.v3.Int64Range.newBuilder()
                    .setStart(200)
                    .setEnd(500)))
        .build();
  }

  /**
   * The ext-proc cluster. ext_proc is gRPC, so HTTP/2 is required; endpoints come over EDS so
   * replicas can change without touching the listener. With {@code tls} (null: plaintext) Envoy
   * connects over mutual TLS: its client certificate and the CA ext-proc's certificate must lead to
   * come from SDS secrets naming files on the Envoy host ({@link SecretFactory#extProcTls}), which
   * Envoy re-reads when they are replaced.
   */
  public static Cluster extProc(Duration connectTimeout, @Nullable ExtProcTls tls) {
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions protocol =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
            .build();
    Cluster.Builder cluster = Cluster.newBuilder()
        .setName(XdsNames.EXT_PROC_CLUSTER)
        .setType(DiscoveryType.EDS)
        .setEdsClusterConfig(EdsClusterConfig.newBuilder().setEdsConfig(adsConfigSource()))
        .setConnectTimeout(duration(connectTimeout))
        .putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS_KEY, Any.pack(protocol));
    if (tls != null) {
      UpstreamTlsContext context = UpstreamTlsContext.newBuilder()
          .setCommonTlsContext(CommonTlsContext.newBuilder()
              // gRPC servers accept TLS connections that negotiate HTTP/2 only.
              .addAlpnProtocols("h2")
              .addTlsCertificateSdsSecretConfigs(
                  sdsSecret(XdsNames.EXT_PROC_CLIENT_CERTIFICATE_SECRET))
              .setValidationContextSdsSecretConfig(sdsSecret(XdsNames.EXT_PROC_TRUSTED_CA_SECRET)))
          .build();
      cluster.setTransportSocket(TransportSocket.newBuilder()
          .setName(TLS_TRANSPORT_SOCKET)
          .setTypedConfig(Any.pack(context)));
    }
    return cluster.build();
  }

  /** A reference to a secret served over the same ADS stream. */
  static SdsSecretConfig sdsSecret(String name) {
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(adsConfigSource())
        .build();
  }

  /**
   * A failover chain: an aggregate cluster over provider clusters in priority order. Envoy sends
   * traffic to the first cluster with healthy hosts and moves on when one fails or is ejected.
   */
  public static Cluster failover(String routeName, List<String> clustersInPriorityOrder) {
    return Cluster.newBuilder()
        .setName(XdsNames.failoverCluster(routeName))
        .setConnectTimeout(Durations.fromSeconds(5))
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setClusterType(Cluster.CustomClusterType.newBuilder()
            .setName(AGGREGATE_CLUSTER)
            .setTypedConfig(Any.pack(ClusterConfig.newBuilder()
                .addAllClusters(clustersInPriorityOrder)
                .build())))
        .build();
  }

  /** Config source meaning "over the same ADS stream, xDS v3". */
  static ConfigSource adsConfigSource() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  static com.google.protobuf.Duration duration(Duration d) {
    return Durations.fromNanos(d.toNanos());
  }
}
