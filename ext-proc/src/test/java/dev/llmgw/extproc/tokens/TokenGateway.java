package dev.llmgw.extproc.tokens;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.EnvoyExtProcDriver;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.GatewayFilterConfig;
import dev.llmgw.extproc.driver.InProcessExtProc;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.ExtProcServer;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The real ext-proc server with token counting, in process, driven by the Envoy-faithful driver
 * with the ext_proc filter configuration the control plane pushes (as the server package's
 * GatewayExchange does for the data-path tests).
 */
final class TokenGateway implements AutoCloseable {

  static final ExternalProcessor FILTER_CONFIG = GatewayFilterConfig.EXT_PROC;

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ExtProcServer server;
  private final InProcessExtProc connection;
  private final EnvoyExtProcDriver driver;

  /** ext-proc with {@code policy} and the listeners {@code listeners} builds from this gateway's registry. */
  TokenGateway(GatewayPolicy policy, Function<SimpleMeterRegistry, List<ExchangeListener>> listeners) {
    String name = InProcessServerBuilder.generateName();
    server = ExtProcServer.start(InProcessServerBuilder.forName(name).directExecutor(), Duration.ofSeconds(1),
        new PolicyStore(policy), listeners.apply(registry), new ExtProcMetrics(registry));
    connection = InProcessExtProc.connectingTo(name, server);
    driver = EnvoyExtProcDriver.builder(connection.channel()).filterConfig(FILTER_CONFIG).bufferLimitBytes(16 << 20).build();
  }

  ExchangeResult exchange(DownstreamRequest request, Upstream upstream) {
    return driver.exchange(request, upstream);
  }

  /** A JSON POST as an SDK sends it. */
  static DownstreamRequest post(String path, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return DownstreamRequest.builder().method("POST").path(path)
        .header("content-type", "application/json")
        .header("content-length", Integer.toString(bytes.length))
        .chunk(ByteString.copyFrom(bytes))
        .build();
  }

  /** The {@code llmgw} dynamic metadata an access log would see. */
  static Map<String, Value> metadata(ExchangeResult r) {
    Struct s = r.dynamicMetadata().get("llmgw");
    return s == null ? Map.of() : s.getFieldsMap();
  }

  @Override
  public void close() throws Exception {
    connection.close();
  }
}
