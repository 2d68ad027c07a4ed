package dev.llmgw.extproc.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.EnvoyExtProcDriver;
import dev.llmgw.extproc.driver.ExchangeResult;
import dev.llmgw.extproc.driver.InProcessExtProc;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.server.ExtProcServer;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Request bodies recorded from the official SDKs go through ext-proc with only the intended
 * rewrites: the model (and, for OpenAI streams, stream_options.include_usage). Every other byte
 * reaches upstream as the SDK wrote it.
 */
class SdkBodiesThroughGatewayTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POLICY = """
      include_stream_usage: true
      models:
        fast: { route: openai, model: gpt-4o-mini }
        gpt-4o: { route: openai, model: gpt-4o }
        embed: { route: openai, model: text-embedding-3-small }
        smart: { route: anthropic, model: claude-sonnet-4-5 }
      """;

  private static Map<String, SdkRecorder.Recorded> recorded;
  private static InProcessExtProc connection;
  private static EnvoyExtProcDriver driver;

  @BeforeAll
  static void recordAndStart() throws Exception {
    try (SdkRecorder recorder = new SdkRecorder()) {
      recorded = recorder.recordAll();
    }
    GatewayPolicy policy = PolicyLoader.parse(POLICY, "test");
    String name = InProcessServerBuilder.generateName();
    ExtProcServer server = ExtProcServer.start(
        InProcessServerBuilder.forName(name).directExecutor(),
        Duration.ofSeconds(1),
        new PolicyStore(policy),
        List.of(),
        new ExtProcMetrics(new SimpleMeterRegistry()));
    connection = InProcessExtProc.connectingTo(name, server);
    driver = EnvoyExtProcDriver.builder(connection.channel())
        .filterConfig(ExternalProcessor.newBuilder()
            .setAllowModeOverride(true)
            .setProcessingMode(ProcessingMode.newBuilder()
                .setRequestBodyMode(ProcessingMode.BodySendMode.NONE)
                .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND))
            .build())
        .build();
  }

  @AfterAll
  static void stop() throws Exception {
    connection.close();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "openai-chat, gpt-4o-mini, openai, false",
    "openai-chat-stream, gpt-4o-mini, openai, true",
    "openai-chat-tools, gpt-4o, openai, false",
    "openai-embeddings, text-embedding-3-small, openai, false",
    "anthropic-messages, claude-sonnet-4-5, anthropic, false",
    "anthropic-messages-stream, claude-sonnet-4-5, anthropic, false",
    "anthropic-messages-tools, claude-sonnet-4-5, anthropic, false"
  })
  void sdkBodyReachesUpstreamWithOnlyTheIntendedRewrites(
      String name, String model, String route, boolean addsUsage) throws Exception {
    SdkRecorder.Recorded sdk = recorded.get(name);
    DownstreamRequest.Builder request =
        DownstreamRequest.builder().method("POST").path(sdk.path());
    sdk.headers().forEach((k, v) -> {
      if (!k.equals("host") && !k.equals("connection") && !k.equals("accept-encoding")) {
        request.header(k, v);
      }
    });
    request.chunk(ByteString.copyFrom(sdk.body()));

    ExchangeResult r = driver.exchange(
        request.build(), Upstream.returning(UpstreamResponse.ok("application/json", "{}")));

    byte[] sent = r.upstream().body().toByteArray();
    ObjectNode expected = (ObjectNode) JSON.readTree(sdk.body());
    String requestedModel = expected.get("model").asText();
    expected.put("model", model);
    if (addsUsage) {
      expected.putObject("stream_options").put("include_usage", true);
    }
    assertThat(JSON.readTree(sent)).isEqualTo(expected);
    String original = new String(sdk.body(), StandardCharsets.UTF_8);
    String spliced = original.replaceFirst(
        "\"model\":\"" + requestedModel + "\"", "\"model\":\"" + model + "\"");
    if (!addsUsage) {
      assertThat(new String(sent, StandardCharsets.UTF_8))
          .as("byte-for-byte apart from the model")
          .isEqualTo(spliced);
    }
    assertThat(r.upstream().headers().get("x-llmgw-route")).contains(route);
    assertThat(r.upstream().headers().get("content-length"))
        .contains(Integer.toString(sent.length));
    assertThat(r.upstream()
            .headers()
            .get("authorization")
            .or(() -> r.upstream().headers().get("x-api-key")))
        .as("credentials the SDK sent are forwarded untouched")
        .isPresent();
  }
}
