package dev.llmgw.extproc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import dev.llmgw.extproc.bench.BenchExchanges.Kind;
import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.EnvoyExtProcDriver;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.GatewayFilterConfig;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamRequest;
import dev.llmgw.extproc.limits.LimitEnforcement;
import dev.llmgw.extproc.limits.LocalLimitStore;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.pii.PiiProtection;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.ExtProcServer;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.spend.SpendRecords;
import dev.llmgw.extproc.spend.SpendReporter;
import dev.llmgw.extproc.tokens.TokenCounting;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Whole exchanges through the real ext_proc server with the production listeners wired as
 * {@code ExtProcMain} wires them (PII protection, token counting, cost tagging with a disabled spend
 * reporter, limit enforcement on a local store, Prometheus metrics), over an in-process gRPC channel
 * on a direct executor, so one thread does all the work and no network is measured.
 *
 * <p>Each exchange is first run through the Envoy-faithful driver, and setup fails unless it did what
 * it should (model alias rewritten, PII masked upstream and restored for the client, cost, tokens and
 * limits in the dynamic metadata). The messages the driver sent are then replayed by
 * {@link ProcessReplay}, which leaves out the driver's own work, and every replayed answer is checked
 * against the recorded one. {@code baseline} replays the same messages to a processor that answers
 * CONTINUE to everything: the cost of the transport and the replay, to subtract.
 *
 * <p>Not run by the build; see docs/benchmarks.md for the command.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ExchangeBenchmark {

  /** Chat completion with a JSON answer; the same streamed as SSE; Anthropic messages streamed. */
  @Param({"openai-json", "openai-sse", "anthropic-sse"})
  public String exchange;

  /**
   * "on": the policy below (alias, operator price, budget, rate limit, PII mask and restore);
   * "off": the built-in pass-through policy ext-proc runs without a policy file (the listeners still
   * count tokens and tag cost with the built-in prices).
   */
  @Param({"off", "on"})
  public String policy;

  /** "in-process" (direct executor, one thread); "netty" for gRPC over loopback as deployed. */
  @Param({"in-process"})
  public String transport;

  static final String POLICY_ON = """
      version: bench-on
      models:
        fast: { route: openai, model: gpt-4o-mini }
        claude: { route: anthropic, model: claude-sonnet-4-5 }
      pii:
        default:
          entities: { email: mask, phone: mask, credit_card: mask, iban: mask, us_ssn: mask, ip_address: mask, secret: mask }
      limits:
        budgets:
          - { scope: tenant, id: acme, period: monthly, limit_usd: "1000000000" }
        rates:
          - { scope: api_key, id: "*", tokens_per_minute: 1000000000, requests_per_minute: 1000000000 }
      prices:
        version: bench-prices
        models:
          gpt-4o-mini: { input: "0.10", output: "0.40", source: "bench", as_of: 2026-11-01 }
          claude-sonnet-4-5: { input: "2.00", output: "10.00", source: "bench", as_of: 2026-11-01 }
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  private PrometheusMeterRegistry registry;
  private ExtProcServer gateway;
  private Server continueServer;
  private ManagedChannel gatewayChannel;
  private ManagedChannel continueChannel;
  private ProcessReplay gatewayReplay;
  private ProcessReplay baselineReplay;

  @Setup
  public void setUp() throws Exception {
    Kind kind = Kind.of(exchange);
    boolean on = switch (policy) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("policy: " + policy + " (expected: on or off)");
    };
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    GatewayPolicy gatewayPolicy =
        on ? PolicyLoader.parse(POLICY_ON, "ExchangeBenchmark") : GatewayPolicy.passThrough();
    Clock clock = Clock.systemUTC();
    // As ExtProcMain wires them, without a control plane: no PII hash key file, spend not reported.
    List<ExchangeListener> listeners = List.of(
        PiiProtection.listener(registry, null),
        TokenCounting.listener(registry),
        CostTagging.builder(registry)
            .sink(SpendRecords.sink(SpendReporter.disabled(), clock))
            .build(),
        new LimitEnforcement(LocalLimitStore.create(), clock, registry));
    String name = InProcessServerBuilder.generateName();
    gateway = ExtProcServer.start(
        serverBuilder(name),
        Duration.ofSeconds(1),
        new PolicyStore(gatewayPolicy),
        listeners,
        new ExtProcMetrics(registry));
    gatewayChannel = channel(name, gateway.port());
    String continueName = InProcessServerBuilder.generateName();
    continueServer =
        serverBuilder(continueName).addService(new ContinueProcessor()).build().start();
    continueChannel = channel(continueName, continueServer.getPort());

    DownstreamRequest request = BenchExchanges.request(kind, on ? kind.alias : kind.model);
    String served =
        kind == Kind.ANTHROPIC_SSE ? "claude-sonnet-4-5-20250929" : "gpt-4o-mini-2024-07-18";
    Upstream provider = BenchExchanges.provider(kind, served);
    ExchangeResult result = EnvoyExtProcDriver.builder(gatewayChannel)
        .filterConfig(GatewayFilterConfig.EXT_PROC)
        .build()
        .exchange(request, provider);
    check(kind, on, request, provider, result);

    List<ProcessingRequest> script = result.requestsToProcessor();
    List<ProcessingResponse> replayed = ProcessReplay.record(gatewayChannel, script);
    if (!replayed.equals(result.responsesFromProcessor())) {
      throw new IllegalStateException(
          "replaying the driver's messages got other answers than the driver did:\n" + replayed
              + "\n(expected)\n" + result.responsesFromProcessor());
    }
    gatewayReplay = new ProcessReplay(gatewayChannel, script, result.responsesFromProcessor());
    baselineReplay =
        new ProcessReplay(continueChannel, script, ProcessReplay.record(continueChannel, script));
    long sent = script.stream().mapToLong(ProcessingRequest::getSerializedSize).sum();
    long answered =
        replayed.stream().mapToLong(ProcessingResponse::getSerializedSize).sum();
    System.out.printf(
        "%n%s, policy %s: request body %,d bytes, response body %,d bytes in %d chunks; "
            + "%d messages to ext-proc (%,d bytes), answers %,d bytes; cost_usd %s%n",
        exchange,
        policy,
        request.body().size(),
        result.clientResponse().body().size(),
        result.sent(ProcessingRequest.RequestCase.RESPONSE_BODY).size(),
        script.size(),
        sent,
        answered,
        GatewayExchange.metadata(result).get("cost_usd").getStringValue());
  }

  /** What the gateway should have done to this exchange; throws (failing the setup) when it did not. */
  private static void check(
      Kind kind, boolean on, DownstreamRequest request, Upstream provider, ExchangeResult r)
      throws IOException {
    expect(
        r.clientResponse().status() == 200,
        "client status " + r.clientResponse().status() + ", notes " + r.notes(),
        "200");
    UpstreamRequest up = r.upstream();
    String upstreamBody = up.bodyUtf8();
    String clientBody = r.clientResponse().bodyUtf8();
    Map<String, Value> meta = GatewayExchange.metadata(r);
    expect(
        BenchExchanges.answerText(kind, clientBody).equals(BenchExchanges.expectedAnswer(kind)),
        "the client read: " + BenchExchanges.answerText(kind, clientBody),
        "the model's answer with the original values");
    expect(
        meta.get("completion_tokens") != null
            && meta.get("completion_tokens").getNumberValue() == BenchExchanges.COMPLETION_TOKENS,
        "metadata " + meta,
        "completion_tokens from the provider's usage");
    expect(
        meta.get("cost_estimated") != null && !meta.get("cost_estimated").getBoolValue(),
        "metadata " + meta,
        "cost_estimated: false");
    BigDecimal in;
    BigDecimal out;
    if (on) {
      JsonNode sent = JSON.readTree(upstreamBody);
      expect(
          sent.path("model").asText().equals(kind.model),
          "upstream model " + sent.path("model"),
          kind.model);
      expect(
          up.headers()
              .get("x-llmgw-route")
              .orElse("")
              .equals(kind == Kind.ANTHROPIC_SSE ? "anthropic" : "openai"),
          "route header " + up.headers().get("x-llmgw-route"),
          "the alias's provider");
      expect(
          !upstreamBody.contains(BenchExchanges.EMAIL)
              && !upstreamBody.contains(BenchExchanges.PHONE)
              && upstreamBody.contains(BenchExchanges.EMAIL_PLACEHOLDER)
              && upstreamBody.contains(BenchExchanges.PHONE_PLACEHOLDER),
          "upstream body " + upstreamBody,
          "e-mail and phone masked with placeholders");
      expect(
          up.headers()
              .get("content-length")
              .orElse("")
              .equals(Integer.toString(up.body().size())),
          "content-length " + up.headers().get("content-length"),
          "the masked body's length");
      expect(
          !clientBody.contains("<EMAIL_") && !clientBody.contains("<PHONE_"),
          "client body " + clientBody,
          "no placeholder left");
      expect(
          number(meta, "pii_found") == 3 && number(meta, "pii_restored") >= 2,
          "metadata " + meta,
          "pii_found 3 (e-mail twice, phone once), pii_restored at least 2");
      expect(meta.containsKey("limits_checked"), "metadata " + meta, "limits_checked");
      expect(
          meta.get("price_version").getStringValue().endsWith("+bench-prices"),
          "metadata " + meta,
          "the policy's prices");
      in = new BigDecimal(kind == Kind.ANTHROPIC_SSE ? "2.00" : "0.10");
      out = new BigDecimal(kind == Kind.ANTHROPIC_SSE ? "10.00" : "0.40");
    } else {
      expect(
          up.body().equals(request.body()),
          "upstream body " + upstreamBody,
          "the client's body unchanged");
      ByteString provided = ByteString.EMPTY;
      for (ByteString chunk : provider.respond(up).chunks()) {
        provided = provided.concat(chunk);
      }
      expect(
          r.clientResponse().body().equals(provided),
          "client body " + clientBody,
          "the provider's body unchanged");
      expect(
          !meta.containsKey("pii_found") && !meta.containsKey("limits_checked"),
          "metadata " + meta,
          "no PII or limits work");
      in = new BigDecimal(kind == Kind.ANTHROPIC_SSE ? "3" : "0.15");
      out = new BigDecimal(kind == Kind.ANTHROPIC_SSE ? "15" : "0.60");
    }
    BigDecimal cost = in.multiply(BigDecimal.valueOf(BenchExchanges.PROMPT_TOKENS))
        .add(out.multiply(BigDecimal.valueOf(BenchExchanges.COMPLETION_TOKENS)))
        .movePointLeft(6);
    expect(
        meta.get("cost_usd") != null
            && new BigDecimal(meta.get("cost_usd").getStringValue()).compareTo(cost) == 0,
        "metadata " + meta,
        "cost_usd " + cost.toPlainString());
  }

  private static double number(Map<String, Value> meta, String key) {
    Value v = meta.get(key);
    return v == null ? -1 : v.getNumberValue();
  }

  private static void expect(boolean ok, String actual, String expected) {
    if (!ok) {
      throw new IllegalStateException(
          "the exchange did not do what it should: " + actual + " (expected: " + expected + ")");
    }
  }

  /** The gateway: one exchange, Envoy's messages in, ext-proc's answers out. */
  @Benchmark
  public ProcessingResponse gateway(CpuTime cpu) {
    cpu.ops++;
    return gatewayReplay.run();
  }

  /** The same messages answered CONTINUE by a processor that does nothing: transport and replay only. */
  @Benchmark
  public ProcessingResponse baseline(CpuTime cpu) {
    cpu.ops++;
    return baselineReplay.run();
  }

  /**
   * CPU time of the benchmark thread per exchange, printed after each iteration and summed up at the
   * end: on a direct executor that thread does all of ext-proc's work (GC and the JIT run on their
   * own threads), so this figure does not move when other processes take the CPU away, as the
   * wall-clock score does on a shared machine.
   */
  @State(Scope.Thread)
  public static class CpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    long ops;
    private long start;
    private final List<Double> measured = new ArrayList<>();

    @Setup(Level.Iteration)
    public void start() {
      ops = 0;
      start = THREADS.getCurrentThreadCpuTime();
    }

    @TearDown(Level.Iteration)
    public void stop(IterationParams iteration) {
      double perOp = (THREADS.getCurrentThreadCpuTime() - start) / 1e3 / Math.max(1, ops);
      System.out.printf(" [cpu %.1f us/op]", perOp);
      if (iteration.getType() == IterationType.MEASUREMENT) {
        measured.add(perOp);
      }
    }

    @TearDown(Level.Trial)
    public void summary() {
      if (!measured.isEmpty()) {
        List<Double> sorted = measured.stream().sorted().toList();
        System.out.printf(
            "%ncpu per exchange over %d measurement iterations: mean %.1f us, min %.1f, max %.1f%n",
            sorted.size(),
            sorted.stream().mapToDouble(Double::doubleValue).average().orElse(0),
            sorted.get(0),
            sorted.get(sorted.size() - 1));
      }
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    double errors = registry.find(ExtProcMetrics.ERRORS).counters().stream()
        .mapToDouble(Counter::count)
        .sum();
    gatewayChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    continueChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    gateway.close();
    continueServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    registry.close();
    if (errors > 0) {
      throw new IllegalStateException(
          "ext-proc counted " + errors + " errors during the run (expected: none)");
    }
  }

  private ServerBuilder<?> serverBuilder(String inProcessName) {
    return switch (transport) {
      case "in-process" -> InProcessServerBuilder.forName(inProcessName).directExecutor();
      // As ExtProcMain builds it: gRPC's default executor.
      case "netty" ->
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      default ->
        throw new IllegalArgumentException(
            "transport: " + transport + " (expected: in-process or netty)");
    };
  }

  private ManagedChannel channel(String inProcessName, int port) {
    return transport.equals("netty")
        ? NettyChannelBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            .usePlaintext()
            .build()
        : InProcessChannelBuilder.forName(inProcessName).directExecutor().build();
  }

  /** Answers every message with CONTINUE and changes nothing. */
  private static final class ContinueProcessor
      extends ExternalProcessorGrpc.ExternalProcessorImplBase {
    private static final ProcessingResponse REQUEST_HEADERS = ProcessingResponse.newBuilder()
        .setRequestHeaders(HeadersResponse.getDefaultInstance())
        .build();
    private static final ProcessingResponse REQUEST_BODY = ProcessingResponse.newBuilder()
        .setRequestBody(BodyResponse.getDefaultInstance())
        .build();
    private static final ProcessingResponse RESPONSE_HEADERS = ProcessingResponse.newBuilder()
        .setResponseHeaders(HeadersResponse.getDefaultInstance())
        .build();
    private static final ProcessingResponse RESPONSE_BODY = ProcessingResponse.newBuilder()
        .setResponseBody(BodyResponse.getDefaultInstance())
        .build();
    private static final ProcessingResponse TRAILERS = ProcessingResponse.newBuilder()
        .setRequestTrailers(TrailersResponse.getDefaultInstance())
        .build();

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(ProcessingRequest r) {
          out.onNext(
              switch (r.getRequestCase()) {
                case REQUEST_HEADERS -> REQUEST_HEADERS;
                case REQUEST_BODY -> REQUEST_BODY;
                case RESPONSE_HEADERS -> RESPONSE_HEADERS;
                case RESPONSE_BODY -> RESPONSE_BODY;
                case REQUEST_TRAILERS, RESPONSE_TRAILERS, REQUEST_NOT_SET -> TRAILERS;
              });
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }
}
