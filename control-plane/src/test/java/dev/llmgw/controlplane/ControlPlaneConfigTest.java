package dev.llmgw.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
