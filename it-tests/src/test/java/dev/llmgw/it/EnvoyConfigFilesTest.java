package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.controlplane.xds.validation.CrossReferenceChecker;
import dev.llmgw.controlplane.xds.validation.EnvoyConfigException;
import dev.llmgw.controlplane.xds.validation.EnvoyConfigLoader;
import dev.llmgw.controlplane.xds.validation.EnvoyValidator;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every Envoy configuration file in {@code envoy/} and {@code deploy/} parses into Envoy's
 * Bootstrap proto with no unknown field, passes Envoy's PGV rules (through every typed_config) and
 * is whole: every cluster it names exists.
 *
 * <p>Envoy files are all YAML/JSON files under {@code envoy/}, and those under {@code deploy/}
 * whose name starts with {@code envoy}. Other YAML under deploy/ (compose files, ext-proc policy)
 * is not Envoy configuration.
 */
class EnvoyConfigFilesTest {

  private static final EnvoyConfigLoader LOADER = new EnvoyConfigLoader();
  private static final EnvoyValidator VALIDATOR = new EnvoyValidator();

  static List<Path> envoyFiles() throws IOException {
    Path root = RepoFiles.root();
    try (Stream<Path> envoy = Files.walk(root.resolve("envoy"));
        Stream<Path> deploy = Files.walk(root.resolve("deploy"))) {
      return Stream.concat(
              envoy.filter(EnvoyConfigFilesTest::isConfig),
              deploy.filter(p -> isConfig(p) && p.getFileName().toString().startsWith("envoy")))
          .sorted()
          .toList();
    }
  }

  private static boolean isConfig(Path p) {
    String name = p.getFileName().toString();
    return Files.isRegularFile(p)
        && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
  }

  @Test
  void findsTheBootstrapsTheProjectShips() throws IOException {
    assertThat(envoyFiles())
        .extracting(p -> RepoFiles.root().relativize(p).toString())
        .contains("envoy/envoy.yaml", "deploy/compose/envoy.yaml");
  }

  @TestFactory
  Stream<DynamicTest> everyEnvoyFileIsAValidWholeBootstrap() throws IOException {
    return envoyFiles().stream()
        .map(file -> DynamicTest.dynamicTest(RepoFiles.root().relativize(file).toString(), () -> {
          Bootstrap bootstrap = LOADER.load(file, Bootstrap.class);
          assertThat(bootstrap.getDynamicResources().getAdsConfig().getGrpcServicesCount())
              .as("ADS points at the control plane")
              .isEqualTo(1);
          assertThat(bootstrap.getAdmin().hasAddress()).as("admin listener").isTrue();
          assertThat(VALIDATOR.validate(bootstrap))
              .as("PGV violations in %s", file)
              .isEmpty();
          assertThat(CrossReferenceChecker.standalone().checkStatic(bootstrap))
              .as("cross-references in %s", file)
              .isEmpty();
        }));
  }

  @Test
  void theXdsTokenLineRunLocalWritesIsAValidBootstrapThatSendsTheToken() throws IOException {
    String shipped = Files.readString(RepoFiles.root().resolve("envoy/envoy.yaml"));
    // What deploy/run-local.sh's sed does to the commented line.
    String withToken = shipped.replaceFirst(
        "(?m)^      # initial_metadata: .*$",
        "      initial_metadata: [{ key: authorization, value: \"Bearer 0a1b2c3d4e5f60718293a4b5c6d7e8f9\" }]");

    Bootstrap bootstrap = LOADER.parse(withToken, Bootstrap.class, "run-local envoy.yaml");
    assertThat(bootstrap
            .getDynamicResources()
            .getAdsConfig()
            .getGrpcServices(0)
            .getInitialMetadataList())
        .singleElement()
        .satisfies(h -> {
          assertThat(h.getKey()).isEqualTo("authorization");
          assertThat(h.getValue()).isEqualTo("Bearer 0a1b2c3d4e5f60718293a4b5c6d7e8f9");
        });
    assertThat(VALIDATOR.validate(bootstrap)).isEmpty();
    assertThat(CrossReferenceChecker.standalone().checkStatic(bootstrap)).isEmpty();
    assertThat(Files.readString(RepoFiles.root().resolve("deploy/run-local.sh")))
        .as("run-local.sh rewrites the same line")
        .contains("s|^      # initial_metadata: .*|");
  }

  @Test
  void theTlsLinesMakeAValidBootstrapThatReachesTheControlPlaneOverMutualTls() throws Exception {
    String shipped = Files.readString(RepoFiles.root().resolve("envoy/envoy.yaml"));

    Bootstrap bootstrap = LOADER.parse(
        EnvoyProcess.withXdsTls(shipped, java.nio.file.Path.of("/run/llmgw/tls")),
        Bootstrap.class,
        "envoy.yaml with #tls lines");

    io.envoyproxy.envoy.config.cluster.v3.Cluster xds =
        bootstrap.getStaticResources().getClustersList().stream()
            .filter(c -> c.getName().equals("llmgw_xds"))
            .findFirst()
            .orElseThrow();
    var tls = xds.getTransportSocket()
        .getTypedConfig()
        .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class)
        .getCommonTlsContext();
    assertThat(tls.getAlpnProtocolsList()).containsExactly("h2");
    assertThat(tls.getTlsCertificates(0).getCertificateChain().getFilename())
        .isEqualTo("/run/llmgw/tls/envoy.crt");
    assertThat(tls.getTlsCertificates(0).getPrivateKey().getFilename())
        .isEqualTo("/run/llmgw/tls/envoy.key");
    assertThat(tls.getValidationContext().getTrustedCa().getFilename())
        .isEqualTo("/run/llmgw/tls/ca.crt");
    assertThat(VALIDATOR.validate(bootstrap)).isEmpty();
    assertThat(CrossReferenceChecker.standalone().checkStatic(bootstrap)).isEmpty();
    assertThat(LOADER
            .load(RepoFiles.root().resolve("envoy/envoy.yaml"), Bootstrap.class)
            .getStaticResources()
            .getClustersList())
        .as("plaintext as shipped")
        .noneMatch(c -> c.hasTransportSocket());
  }

  @Test
  void bootstrapExposesPrometheusStatsAndLogsAccess() throws IOException {
    Bootstrap bootstrap =
        LOADER.load(RepoFiles.root().resolve("envoy/envoy.yaml"), Bootstrap.class);

    assertThat(bootstrap.getAdmin().getAccessLogCount()).isEqualTo(1);
    assertThat(bootstrap.getStaticResources().getListenersList())
        .anySatisfy(l -> assertThat(l.toString()).contains("/stats/prometheus"));
    assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();
    assertThat(bootstrap.getDynamicResources().getLdsConfig().hasAds()).isTrue();
  }

  @Test
  void theCheckFailsOnABrokenFile() throws IOException {
    String good = Files.readString(RepoFiles.root().resolve("envoy/envoy.yaml"));

    assertThatThrownBy(() -> LOADER.parse(
            good.replace("stat_prefix: prometheus", "stat_prefx: prometheus"),
            Bootstrap.class,
            "typo.yaml"))
        .isInstanceOf(EnvoyConfigException.class)
        .hasMessageContaining("typo.yaml")
        .hasMessageContaining("stat_prefx");

    Bootstrap emptyPrefix = LOADER.parse(
        good.replace("stat_prefix: prometheus", "stat_prefix: \"\""),
        Bootstrap.class,
        "empty.yaml");
    assertThat(VALIDATOR.validate(emptyPrefix))
        .singleElement()
        .satisfies(v -> assertThat(v.toString()).contains("stat_prefix"));

    Bootstrap missingCluster = LOADER.parse(
        good.replace("cluster: envoy_admin", "cluster: no_such_cluster"),
        Bootstrap.class,
        "x.yaml");
    assertThat(CrossReferenceChecker.standalone().checkStatic(missingCluster))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("no_such_cluster"));
  }
}
