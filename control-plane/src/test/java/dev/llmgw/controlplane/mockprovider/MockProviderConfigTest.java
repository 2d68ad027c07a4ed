package dev.llmgw.controlplane.mockprovider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MockProviderConfigTest {

  @Test
  void defaultsListenOnLoopbackPort8900WithoutLatency() {
    assertThat(MockProviderConfig.fromArgs(new String[0], Map.of()))
        .isEqualTo(new MockProviderConfig("127.0.0.1", 8900, Duration.ZERO));
  }

  @Test
  void flagsWinOverEnvironmentWhichWinsOverDefaults() {
    MockProviderConfig config = MockProviderConfig.fromArgs(
        new String[] {"--port=9100"},
        Map.of("LLMGW_MOCK_PORT", "9000", "LLMGW_MOCK_LATENCY_MS", "250"));

    assertThat(config.port()).isEqualTo(9100);
    assertThat(config.latency()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void unknownFlagIsRejectedWithTheListOfKnownOnes() {
    assertThatThrownBy(() -> MockProviderConfig.fromArgs(new String[] {"--prot=1"}, Map.of()))
        .hasMessage(
            "unknown argument: '--prot=1' (expected one of: --port=<8900>, --bind-host=<127.0.0.1>, --latency-ms=<0>)");
  }

  @Test
  void badValuesSayWhatWasExpected() {
    assertThatThrownBy(
            () -> MockProviderConfig.fromArgs(new String[] {"--latency-ms=-1"}, Map.of()))
        .hasMessage("latency-ms: -1 (expected: >= 0)");
    assertThatThrownBy(() -> MockProviderConfig.fromArgs(new String[] {"--port=x"}, Map.of()))
        .hasMessage("port: 'x' (expected: an integer)");
  }
}
