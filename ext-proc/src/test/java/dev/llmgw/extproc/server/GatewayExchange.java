package dev.llmgw.extproc.server;

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
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * ext-proc as Envoy sees it in the gateway: the real server, in process, driven by the
 * Envoy-faithful driver with the ext_proc filter configuration the control plane pushes
 * (headers only, bodies on request through mode_override, fail closed, {@code llmgw} metadata).
 * Shared by the data-path, token, PII and cost tests.
 */
public final class GatewayExchange implements AutoCloseable {

  public static final ExternalProcessor FILTER_CONFIG = GatewayFilterConfig.EXT_PROC;

  public final PolicyStore policies;
  public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ExtProcServer server;
  private final InProcessExtProc connection;
  private final EnvoyExtProcDriver driver;

  public GatewayExchange(GatewayPolicy policy, ExchangeListener... listeners) {
    this(policy, registry -> List.of(listeners));
  }

  /** ext-proc with {@code policy} and the listeners {@code listeners} builds from this gateway's registry. */
  public GatewayExchange(
      GatewayPolicy policy, Function<SimpleMeterRegistry, List<ExchangeListener>> listeners) {
    policies = new PolicyStore(policy);
    String name = InProcessServerBuilder.generateName();
    server = ExtProcServer.start(
        InProcessServerBuilder.forName(name).directExecutor(),
        Duration.ofSeconds(1),
        policies,
        listeners.apply(registry),
        new ExtProcMetrics(registry));
    connection = InProcessExtProc.connectingTo(name, server);
    driver = EnvoyExtProcDriver.builder(connection.channel())
        .filterConfig(FILTER_CONFIG)
        .bufferLimitBytes(16 << 20)
        .build();
  }

  public ExchangeResult exchange(DownstreamRequest request, Upstream upstream) {
    return driver.exchange(request, upstream);
  }

  /** The {@code llmgw} dynamic metadata an access log would see. */
  public static Map<String, Value> metadata(ExchangeResult r) {
    Struct s = r.dynamicMetadata().get(ProcessingStream.METADATA_NAMESPACE);
    return s == null ? Map.of() : s.getFieldsMap();
  }

  /** A JSON POST as an SDK sends it, with content-type and content-length. */
  public static DownstreamRequest.Builder post(String path, byte[] body) {
    return DownstreamRequest.builder()
        .method("POST")
        .path(path)
        .header("content-type", "application/json")
        .header("content-length", Integer.toString(body.length))
        .chunk(ByteString.copyFrom(body));
  }

  public static DownstreamRequest.Builder post(String path, String body) {
    return post(path, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws Exception {
    connection.close();
  }
}
