package dev.llmgw.extproc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.tls.PemFile;
import dev.llmgw.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExtProcConfigTest {

  @Test
  void defaultsToPort9002AndThePassThroughPolicy() {
    assertThat(ExtProcConfig.fromArgs(new String[0], Map.of()))
        .isEqualTo(new ExtProcConfig(
            9002,
            9003,
            null,
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            "",
            null,
            "local",
            java.nio.file.Path.of("data/ext-proc/spend"),
            null,
            "0.0.0.0",
            null,
            null));
  }

  @Test
  void bindsTheAddressGivenByFlagOrEnvironment() {
    assertThat(ExtProcConfig.fromArgs(new String[] {"--bind-host=127.0.0.1"}, Map.of())
            .bindHost())
        .isEqualTo("127.0.0.1");
    assertThat(ExtProcConfig.fromArgs(new String[0], Map.of("EXT_PROC_BIND_HOST", "10.0.0.5"))
            .bindHost())
        .isEqualTo("10.0.0.5");
  }

  @Test
  void oneCertificateServesTheGrpcPortAndTheLinkToTheControlPlane() {
    ExtProcConfig config = ExtProcConfig.fromArgs(
        new String[] {
          "--tls-cert-file=/tls/ext-proc.crt",
          "--tls-key-file=/tls/ext-proc.key",
          "--tls-client-ca-file=/tls/envoy-ca.crt",
          "--control-plane=cp:18000",
          "--control-plane-ca-file=/tls/cp-ca.crt"
        },
        Map.of());

    assertThat(config.tls())
        .isEqualTo(new TlsFiles(
            new PemFile("tls-cert-file", Path.of("/tls/ext-proc.crt")),
            new PemFile("tls-key-file", Path.of("/tls/ext-proc.key")),
            new PemFile("tls-client-ca-file", Path.of("/tls/envoy-ca.crt"))));
    assertThat(config.controlPlaneTls())
        .isEqualTo(new TlsFiles(
            new PemFile("tls-cert-file", Path.of("/tls/ext-proc.crt")),
            new PemFile("tls-key-file", Path.of("/tls/ext-proc.key")),
            new PemFile("control-plane-ca-file", Path.of("/tls/cp-ca.crt"))));
  }

  @Test
  void incompleteTlsSettingsSayWhatIsMissing() {
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(
            new String[] {"--tls-cert-file=/c", "--tls-client-ca-file=/a"}, Map.of()))
        .hasMessage("--tls-cert-file and --tls-key-file go together (expected: both or neither)");
    assertThatThrownBy(
            () -> ExtProcConfig.fromArgs(new String[] {"--tls-client-ca-file=/a"}, Map.of()))
        .hasMessage("--tls-client-ca-file needs --tls-cert-file and --tls-key-file (expected: "
            + "ext-proc's own certificate and key)");
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(
            new String[] {"--tls-cert-file=/c", "--tls-key-file=/k"}, Map.of()))
        .hasMessageStartingWith("--tls-cert-file is set but neither --tls-client-ca-file");
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(
            new String[] {"--tls-cert-file=/c", "--tls-key-file=/k", "--control-plane-ca-file=/a"},
            Map.of()))
        .hasMessage("--control-plane-ca-file is set without --control-plane (expected: both or "
            + "neither)");
  }

  @Test
  void readsTheControlPlaneTokenFileFromFlagOrEnvironment() {
    assertThat(ExtProcConfig.fromArgs(
                new String[] {"--control-plane-token-file=/run/secrets/xds"}, Map.of())
            .controlPlaneTokenFile())
        .isEqualTo(java.nio.file.Path.of("/run/secrets/xds"));
    assertThat(
            ExtProcConfig.fromArgs(new String[0], Map.of("EXT_PROC_CONTROL_PLANE_TOKEN_FILE", "/t"))
                .controlPlaneTokenFile())
        .isEqualTo(java.nio.file.Path.of("/t"));
  }

  @Test
  void readsPolicyFileFromFlagOrEnvironment() {
    assertThat(ExtProcConfig.fromArgs(
                new String[0], Map.of("EXT_PROC_POLICY_FILE", "/etc/llmgw/policy.yaml"))
            .policyFile())
        .isEqualTo(java.nio.file.Path.of("/etc/llmgw/policy.yaml"));
  }

  @Test
  void flagWinsOverEnvironment() {
    ExtProcConfig config = ExtProcConfig.fromArgs(
        new String[] {"--grpc-port=7000"},
        Map.of("EXT_PROC_GRPC_PORT", "8000", "EXT_PROC_SHUTDOWN_GRACE_SECONDS", "3"));
    assertThat(config.grpcPort()).isEqualTo(7000);
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void rejectsUnknownFlagsAndBadNumbers() {
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(new String[] {"--port=1"}, Map.of()))
        .hasMessageContaining("unknown flag: --port=1")
        .hasMessageContaining("--grpc-port=");
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(new String[] {"--grpc-port=x"}, Map.of()))
        .hasMessage("grpc-port: 'x' (expected: an integer)");
    assertThatThrownBy(() -> ExtProcConfig.fromArgs(new String[] {"--grpc-port=70000"}, Map.of()))
        .hasMessage("grpcPort: 70000 (expected: 0..65535)");
  }

  @Test
  void limitsStoreIsLocalOrARedisAddress() {
    assertThat(
            ExtProcConfig.fromArgs(new String[] {"--limits-store=redis://10.0.0.7:6379"}, Map.of())
                .limitsStore())
        .isEqualTo("redis://10.0.0.7:6379");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ExtProcConfig.fromArgs(new String[] {"--limits-store=redis:/x"}, Map.of()))
        .hasMessageContaining("limitsStore: 'redis:/x' (expected: local or redis://host:port)");
  }
}
