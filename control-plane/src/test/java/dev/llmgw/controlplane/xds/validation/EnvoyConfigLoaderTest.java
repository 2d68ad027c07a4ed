package dev.llmgw.controlplane.xds.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvoyConfigLoaderTest {

  private static final String BOOTSTRAP = """
      node:
        id: envoy-1
        cluster: llmgw
      admin:
        address:
          socket_address: { address: 127.0.0.1, port_value: 9901 }
      dynamic_resources:
        ads_config:
          api_type: GRPC
          transport_api_version: V3
          grpc_services:
          - envoy_grpc: { cluster_name: xds_cluster }
        cds_config: { ads: {}, resource_api_version: V3 }
        lds_config: { ads: {}, resource_api_version: V3 }
      static_resources:
        listeners:
        - name: ingress
          address:
            socket_address: { address: 0.0.0.0, port_value: 10000 }
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: llmgw
                route_config:
                  name: local
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                    - match: { prefix: / }
                      route: { cluster: xds_cluster, timeout: 0.25s }
                http_filters:
                - name: envoy.filters.http.router
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        clusters:
        - name: xds_cluster
          type: STRICT_DNS
          connect_timeout: 1s
          load_assignment:
            cluster_name: xds_cluster
            endpoints:
            - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: control-plane, port_value: 18000 }
          typed_extension_protocol_options:
            envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
              "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
              explicit_http_config:
                http2_protocol_options: {}
      """;

  private final EnvoyConfigLoader loader = new EnvoyConfigLoader();

  @Test
  void parsesYamlBootstrapWithTypedConfigsAndDurations() throws Exception {
    Bootstrap bootstrap = loader.parse(BOOTSTRAP, Bootstrap.class, "envoy.yaml");

    HttpConnectionManager hcm = bootstrap
        .getStaticResources()
        .getListeners(0)
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
    assertThat(hcm.getStatPrefix()).isEqualTo("llmgw");
    assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getTimeout())
        .isEqualTo(Durations.fromMillis(250));
    assertThat(bootstrap.getStaticResources().getClusters(0).getType())
        .isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(new EnvoyValidator().validate(bootstrap)).isEmpty();
    assertThat(CrossReferenceChecker.standalone().checkStatic(bootstrap)).isEmpty();
  }

  @Test
  void rejectsUnknownFieldNamingTheSourceAndTheField() {
    String yaml =
        BOOTSTRAP.replace("stat_prefix: llmgw", "stat_prefix: llmgw\n          stats_prefix: typo");

    assertThatThrownBy(() -> loader.parse(yaml, Bootstrap.class, "envoy/envoy.yaml"))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageStartingWith("envoy/envoy.yaml: not a valid envoy.config.bootstrap.v3.Bootstrap")
        .hasMessageContaining("stats_prefix");
  }

  @Test
  void rejectsTypeUrlOutsideEnvoysApi() {
    String yaml = BOOTSTRAP.replace(
        "envoy.extensions.filters.http.router.v3.Router",
        "envoy.extensions.filters.http.routr.v3.Router");

    assertThatThrownBy(() -> loader.parse(yaml, Bootstrap.class, "envoy.yaml"))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageStartingWith("envoy.yaml: ")
        .hasMessageContaining(
            "unknown \"@type\" type.googleapis.com/envoy.extensions.filters.http.routr.v3.Router at"
                + " static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
                + ".http_filters[0].typed_config.@type")
        .hasMessageContaining("expected a type from Envoy's v3 API");
  }

  @Test
  void rejectsDuplicateKeysAndMalformedYamlWithLine() {
    assertThatThrownBy(() -> loader.parse("name: a\nname: b\n", Listener.class, "l.yaml"))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageContaining("l.yaml")
        .hasMessageContaining("Duplicate field 'name'");
    assertThatThrownBy(() -> loader.parse("name: a\n  - b: [\n", Listener.class, "l.yaml"))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageMatching("(?s)l\\.yaml line \\d+, column \\d+: malformed YAML: .*");
  }

  @Test
  void rejectsMoreThanOneDocumentAndEmptyText() {
    assertThatThrownBy(() -> loader.parse("name: a\n---\nname: b\n", Listener.class, "l.yaml"))
        .hasMessage("l.yaml: holds more than one YAML document; expected exactly one");
    assertThatThrownBy(() -> loader.parse("", Listener.class, "l.yaml"))
        .hasMessageContaining("l.yaml: is empty");
  }

  @Test
  void loadsJsonFromFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("listener.json");
    Files.writeString(
        file,
        "{\n"
            + "\t\"name\": \"ingress\",\n"
            + "\t\"address\": {\"socketAddress\": {\"address\": \"0.0.0.0\", \"portValue\":"
            + " 10000}}\n"
            + "}");

    Listener listener = loader.load(file, Listener.class);

    assertThat(listener.getName()).isEqualTo("ingress");
    assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(10000);
    assertThatThrownBy(() -> loader.load(dir.resolve("missing.yaml"), Listener.class))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageContaining("missing.yaml: cannot read");
  }
}
