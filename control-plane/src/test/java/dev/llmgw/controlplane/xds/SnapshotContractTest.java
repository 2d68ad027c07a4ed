package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.xds.validation.CrossReferenceChecker;
import dev.llmgw.controlplane.xds.validation.EnvoyValidator;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every snapshot the control plane produces passes Envoy's rules and is whole; broken ones are stopped. */
class SnapshotContractTest {

  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();

  static GatewaySpec spec(List<Provider> providers, String defaultProvider, String ca) {
    return new GatewaySpec(
        10000,
        List.of(new Endpoint("127.0.0.1", 9002), new Endpoint("10.0.0.7", 9002)),
        Duration.ofMillis(500),
        providers,
        defaultProvider,
        ca);
  }

  static List<GatewaySpec> specs() {
    Provider openai = Provider.fromUrl("openai", "https://api.openai.com", Duration.ofSeconds(5));
    Provider anthropic =
        Provider.fromUrl("anthropic", "https://api.anthropic.com", Duration.ofSeconds(5));
    Provider local = Provider.fromUrl("local", "http://127.0.0.1:8081", Duration.ofMillis(300));
    return List.of(
        spec(List.of(openai), "openai", "/etc/ssl/certs/ca-certificates.crt"),
        spec(List.of(openai, anthropic), "anthropic", "/etc/ssl/certs/ca-certificates.crt"),
        spec(List.of(local, openai), "local", "/etc/envoy/ca.pem"),
        new GatewaySpec(
            10000,
            List.of(new Endpoint("10.0.0.7", 9002)),
            Duration.ofMillis(500),
            List.of(openai),
            "openai",
            "/etc/ssl/certs/ca-certificates.crt",
            List.of(),
            java.util.Map.of(),
            java.util.Set.of(),
            java.util.Set.of(),
            new ExtProcTls(
                "/etc/llmgw/tls/envoy.crt", "/etc/llmgw/tls/envoy.key", "/etc/llmgw/tls/ca.crt")));
  }

  @Test
  void everyResourceOfEverySnapshotPassesEnvoysValidationRules() {
    for (GatewaySpec spec : specs()) {
      Snapshot snapshot = SnapshotFactory.snapshot(spec, "1");
      assertThat(snapshot.clusters().resources()).hasSize(1 + spec.providers().size());
      assertThat(snapshot.listeners().resources()).hasSize(1);
      assertThat(snapshot.routes().resources()).hasSize(1);
      assertThat(snapshot.endpoints().resources()).hasSize(1);
      assertThat(VALIDATOR.validate(snapshot)).as("violations for %s", spec).isEmpty();
    }
  }

  @Test
  void everySnapshotIsWhole() {
    for (GatewaySpec spec : specs()) {
      assertThat(CrossReferenceChecker.standalone().check(SnapshotFactory.snapshot(spec, "1")))
          .as("problems for %s", spec)
          .isEmpty();
    }
  }

  @Test
  void aViolationHiddenInsideAnAnyIsCaught() throws Exception {
    Snapshot good = SnapshotFactory.snapshot(specs().get(0), "1");
    Listener listener = good.listeners().resources().values().iterator().next();
    HttpConnectionManager hcm = listener
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
    Listener broken = listener.toBuilder()
        .setFilterChains(
            0,
            listener.getFilterChains(0).toBuilder()
                .setFilters(
                    0,
                    listener.getFilterChains(0).getFilters(0).toBuilder()
                        .setTypedConfig(
                            Any.pack(hcm.toBuilder().setStatPrefix("").build()))))
        .build();

    assertThat(VALIDATOR.validate(broken))
        .singleElement()
        .satisfies(v -> assertThat(v.toString()).contains("llmgw_ingress").contains("stat_prefix"));
  }

  @Test
  void publisherRefusesASnapshotEnvoyWouldRejectAndKeepsTheLastGoodOne() {
    SimpleCache<String> cache = new SimpleCache<>(node -> SnapshotPublisher.DEFAULT_GROUP);
    SnapshotPublisher publisher = new SnapshotPublisher(cache, new EnvoyContractCheck(), 0);
    GatewaySpec good = specs().get(0);
    String first = publisher.publish(good);
    assertThat(SnapshotPublisher.number(first)).isEqualTo(1);

    GatewaySpec emptyCa = spec(good.providers(), "openai", "");
    assertThatThrownBy(() -> publisher.publish(emptyCa))
        .isInstanceOf(SnapshotPublisher.InvalidSnapshotException.class)
        .hasMessageContaining("cluster 'llmgw_provider_openai'")
        .hasMessageContaining("trusted_ca")
        .hasMessageContaining("filename");

    assertThat(cache.getSnapshot(SnapshotPublisher.DEFAULT_GROUP).clusters().version())
        .isEqualTo(first);
    assertThat(publisher.lastPublished())
        .hasValueSatisfying(p -> assertThat(p.spec()).isEqualTo(good));
    assertThat(SnapshotPublisher.number(publisher.publish(good)))
        .as("versions continue after a refusal")
        .isEqualTo(2);
  }

  @Test
  void contractCheckReportsASnapshotThatIsNotWhole() {
    Snapshot good = SnapshotFactory.snapshot(specs().get(0), "1");
    List<Cluster> withoutExtProc = new ArrayList<>(good.clusters().resources().values());
    withoutExtProc.removeIf(c -> c.getName().equals(XdsNames.EXT_PROC_CLUSTER));
    Snapshot broken = Snapshot.create(
        withoutExtProc,
        good.endpoints().resources().values(),
        good.listeners().resources().values(),
        good.routes().resources().values(),
        List.of(),
        "2");

    assertThatThrownBy(() -> new EnvoyContractCheck().check(broken))
        .isInstanceOf(SnapshotPublisher.InvalidSnapshotException.class)
        .hasMessageContaining(XdsNames.EXT_PROC_CLUSTER);
  }
}
