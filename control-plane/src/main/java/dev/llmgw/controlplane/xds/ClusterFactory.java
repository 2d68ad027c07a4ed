package dev.llmgw.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.EdsClusterConfig;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import java.time.Duration;
import java.util.List;

/** Builds Envoy clusters: one per provider, and one for the ext-proc replicas. Pure functions. */
public final class ClusterFactory {

  /** Key Envoy uses to find upstream HTTP protocol options in {@code typed_extension_protocol_options}. */
  static final String HTTP_PROTOCOL_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";

  private ClusterFactory() {}

  /**
   * A provider cluster. Providers sit behind changing DNS answers, so the cluster is LOGICAL_DNS
   * (one connection pool, re-resolved) with the endpoint inline. With TLS the SNI and the
   * certificate's SAN are taken from the host Envoy connects to.
   */
  public static Cluster provider(Provider provider, String trustedCaFile) {
    Cluster.Builder cluster = Cluster.newBuilder()
        .setName(XdsNames.providerCluster(provider.name()))
        .setType(DiscoveryType.LOGICAL_DNS)
        .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_PREFERRED)
        .setConnectTimeout(duration(provider.connectTimeout()))
        .setLoadAssignment(EndpointFactory.loadAssignment(
            XdsNames.providerCluster(provider.name()), List.of(provider.address())));
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.Builder protocol =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setCommonHttpProtocolOptions(HttpProtocolOptions.newBuilder().setIdleTimeout(Durations.fromSeconds(60)))
            .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
                .setHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance()));
    if (provider.tls()) {
      protocol.setUpstreamHttpProtocolOptions(UpstreamHttpProtocolOptions.newBuilder()
          .setAutoSni(true)
          .setAutoSanValidation(true));
      UpstreamTlsContext tls = UpstreamTlsContext.newBuilder()
          .setSni(provider.address().host())
          .setCommonTlsContext(CommonTlsContext.newBuilder()
              .setValidationContext(CertificateValidationContext.newBuilder()
                  .setTrustedCa(DataSource.newBuilder().setFilename(trustedCaFile))))
          .build();
      cluster.setTransportSocket(TransportSocket.newBuilder()
          .setName(TLS_TRANSPORT_SOCKET)
          .setTypedConfig(Any.pack(tls)));
    }
    cluster.putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS_KEY, Any.pack(protocol.build()));
    return cluster.build();
  }

  /**
   * The ext-proc cluster. ext_proc is gRPC, so HTTP/2 is required; endpoints come over EDS so
   * replicas can change without touching the listener.
   */
  public static Cluster extProc(Duration connectTimeout) {
    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions protocol =
        io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
            .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
            .build();
    return Cluster.newBuilder()
        .setName(XdsNames.EXT_PROC_CLUSTER)
        .setType(DiscoveryType.EDS)
        .setEdsClusterConfig(EdsClusterConfig.newBuilder().setEdsConfig(adsConfigSource()))
        .setConnectTimeout(duration(connectTimeout))
        .putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS_KEY, Any.pack(protocol))
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
