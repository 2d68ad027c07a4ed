package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.llmgw.controlplane.xds.HttpFilterFactory;
import dev.llmgw.extproc.driver.GatewayFilterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** ext-proc's tests drive it with the same ext_proc filter config the control plane pushes to Envoy. */
class FilterConfigParityTest {

  @Test
  void extProcTestsUseTheFilterConfigTheControlPlanePushes() throws Exception {
    ExternalProcessor pushed = HttpFilterFactory.extProc(Duration.ofSeconds(1))
        .getTypedConfig()
        .unpack(ExternalProcessor.class);

    assertThat(JsonFormat.printer().print(GatewayFilterConfig.EXT_PROC))
        .isEqualTo(JsonFormat.printer().print(pushed));
  }
}
