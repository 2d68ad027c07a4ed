package dev.llmgw.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.tls.PemFile;
import dev.llmgw.tls.TlsFiles;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControlPlaneConfigTest {

  @Test
  void defaultsServeOpenAiAndAnthropicWithLocalExtProc() {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(new String[0], Map.of());

    assertThat(config.xdsPort()).isEqualTo(18000);
    assertThat(config.adminPort()).isEqualTo(18080);
    assertThat(config.providers()).extracting(p -> p.name()).containsExactly("openai", "anthropic");
    assertThat(config.providers().get(0).tls()).isTrue();
    assertThat(config.extProc()).extracting(Object::toString).containsExactly("127.0.0.1:9002");
  }

  @Test
  void flagsWinOverEnvironmentWhichWinsOverDefaults() {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {"--xds-port=19000"},
        Map.of("LLMGW_CP_XDS_PORT", "17000", "LLMGW_CP_ADMIN_PORT", "17080"));

    assertThat(config.xdsPort()).isEqualTo(19000);
    assertThat(config.adminPort()).isEqualTo(17080);
  }

  @Test
  void unknownFlagIsRejectedWithTheListOfKnownOnes() {
    assertThatThrownBy(() -> ControlPlaneConfig.fromArgs(new String[] {"--xds-prot=1"}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown argument: '--xds-prot=1'")
        .hasMessageContaining("--xds-port=");
  }

  @Test
  void badValuesSayWhatWasExpected() {
    assertThatThrownBy(
            () -> ControlPlaneConfig.fromArgs(new String[] {"--admin-port=abc"}, Map.of()))
        .hasMessage("admin-port: 'abc' (expected: an integer)");
    assertThatThrownBy(
            () -> ControlPlaneConfig.fromArgs(new String[] {"--providers=openai"}, Map.of()))
        .hasMessage("providers: 'openai' (expected: name=https://host[:port])");
    assertThatThrownBy(
            () -> ControlPlaneConfig.fromArgs(new String[] {"--ext-proc=nohost"}, Map.of()))
        .hasMessageContaining("expected: host:port");
  }

  @Test
  void weakRestTokensAreRefusedNamingTheSettingButNotTheToken() {
    assertThatThrownBy(
            () -> ControlPlaneConfig.fromArgs(new String[] {"--admin-token=t"}, Map.of()))
        .hasMessage("admin-token (--admin-token or LLMGW_CP_ADMIN_TOKEN): a token of 1 characters"
            + " (expected: at least 22 printable ASCII characters without spaces,"
            + " e.g. `openssl rand -base64 32`)");
    assertThatThrownBy(() -> ControlPlaneConfig.fromArgs(
            new String[0], Map.of("LLMGW_CP_READ_ONLY_TOKEN", "a read-only token with spaces")))
        .hasMessageStartingWith("read-only-token (--read-only-token or LLMGW_CP_READ_ONLY_TOKEN):"
            + " a token of 29 characters")
        .hasMessageNotContaining("with spaces");
    assertThatThrownBy(
            () -> ControlPlaneConfig.fromArgs(new String[] {"--open-reads=yes"}, Map.of()))
        .hasMessage("open-reads: 'yes' (expected: true or false)");
    ControlPlaneConfig strong = ControlPlaneConfig.fromArgs(
        new String[] {"--admin-token=0123456789abcdef012345"}, Map.of());
    assertThat(strong.adminToken()).hasSize(ControlPlaneConfig.MIN_TOKEN_CHARS);
    assertThat(strong.openReads()).isFalse();
  }

  @Test
  void defaultProviderMustBeOneOfTheProviders() {
    ControlPlaneConfig config =
        ControlPlaneConfig.fromArgs(new String[] {"--default-provider=mistral"}, Map.of());
    assertThatThrownBy(() -> ControlPlane.spec(config))
        .hasMessageContaining("defaultProvider: 'mistral' (expected: one of [anthropic, openai])");
  }

  @Test
  void withoutTlsSettingsEverythingStaysPlaintext() {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(new String[0], Map.of());

    assertThat(config.xdsTls()).isNull();
    assertThat(config.extProcTls()).isNull();
    assertThat(ControlPlane.spec(config).extProcTls()).isNull();
  }

  @Test
  void tlsSettingsComeInThreesAndReachTheSpec() {
    ControlPlaneConfig config = ControlPlaneConfig.fromArgs(
        new String[] {
          "--xds-tls-cert-file=/tls/cp.crt",
          "--xds-tls-key-file=/tls/cp.key",
          "--xds-tls-client-ca-file=/tls/ca.crt",
          "--ext-proc-client-cert-file=/etc/envoy/tls/envoy.crt",
          "--ext-proc-client-key-file=/etc/envoy/tls/envoy.key",
          "--ext-proc-ca-file=/etc/envoy/tls/ca.crt"
        },
        Map.of());

    assertThat(config.xdsTls())
        .isEqualTo(new TlsFiles(
            new PemFile("xds-tls-cert-file", Path.of("/tls/cp.crt")),
            new PemFile("xds-tls-key-file", Path.of("/tls/cp.key")),
            new PemFile("xds-tls-client-ca-file", Path.of("/tls/ca.crt"))));
    assertThat(ControlPlane.spec(config).extProcTls())
        .isEqualTo(new ExtProcTls(
            "/etc/envoy/tls/envoy.crt", "/etc/envoy/tls/envoy.key", "/etc/envoy/tls/ca.crt"));
    assertThatThrownBy(() -> ControlPlaneConfig.fromArgs(
            new String[] {"--ext-proc-ca-file=/etc/envoy/tls/ca.crt"}, Map.of()))
        .hasMessage(
            "--ext-proc-client-cert-file, --ext-proc-client-key-file, --ext-proc-ca-file go "
                + "together (expected: all three or none; missing: --ext-proc-client-cert-file, "
                + "--ext-proc-client-key-file)");
  }
}
