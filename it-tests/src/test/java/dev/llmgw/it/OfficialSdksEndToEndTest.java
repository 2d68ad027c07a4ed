package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The official SDKs, changed in nothing but their base URL, as clients of the real gateway: the
 * Python {@code openai} and {@code anthropic} packages and the Node {@code openai} package through
 * {@code it-tests/sdk/run-sdk-tests.sh}, and the Java SDKs in process. A test whose toolchain or
 * package registry is missing is skipped with the script's reason.
 */
@RequiresEnvoy
class OfficialSdksEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("openai", "anthropic");

  /** How many tests each runner must report as passed, so a runner that finds none fails here. */
  private static final int PYTHON_TESTS = 13;

  private static final int NODE_TESTS = 6;
  /** The first run installs the SDKs; later runs reuse them. */
  private static final long SCRIPT_TIMEOUT_MINUTES = 15;

  private static final int UNAVAILABLE = 3;
  private static final Pattern PYTEST_SUMMARY = Pattern.compile("(?m)^=+ (.+) in [0-9.]+s.* =+$");
  private static final Pattern PASSED = Pattern.compile("(\\d+) passed");
  private static final Pattern NODE_PASS = Pattern.compile("(?m)^# pass (\\d+)$");

  /** Every model name the SDK tests send, as in it-tests/sdk/python/conftest.py and node/gateway.js. */
  @BeforeAll
  static void aliases() {
    Gateway gw = GATEWAY.get();
    gw.rest("PUT", "/v1/models/sdk-chat", "{\"route\":\"openai\",\"model\":\"gpt-4o-mini\"}");
    gw.rest(
        "PUT",
        "/v1/models/sdk-embedding",
        "{\"route\":\"openai\",\"model\":\"text-embedding-3-small\"}");
    gw.put(
        "/v1/models/sdk-claude", "{\"route\":\"anthropic\",\"model\":\"claude-3-5-haiku-latest\"}");
  }

  @Test
  void thePythonSdksPassTheirTestsThroughTheGateway() throws Exception {
    String output = runSdkTests("python");

    Matcher summary = PYTEST_SUMMARY.matcher(output);
    String last = null;
    while (summary.find()) {
      last = summary.group(1);
    }
    assertThat(last).as("pytest's summary line in:\n%s", output).isNotNull();
    Matcher passed = PASSED.matcher(last);
    assertThat(passed.find() ? Integer.parseInt(passed.group(1)) : 0)
        .as("tests passed per pytest's summary '%s' in:\n%s", last, output)
        .isEqualTo(PYTHON_TESTS);
  }

  @Test
  void theNodeSdkPassesItsTestsThroughTheGateway() throws Exception {
    String output = runSdkTests("node");

    Matcher pass = NODE_PASS.matcher(output);
    assertThat(pass.find() ? Integer.parseInt(pass.group(1)) : 0)
        .as("tests passed per node's '# pass N' in:\n%s", output)
        .isEqualTo(NODE_TESTS);
  }

  @Test
  void theJavaOpenAiSdkCompletesAChatAndAStreamWithUsage() {
    Gateway gw = GATEWAY.get();
    OpenAIClient client =
        OpenAIOkHttpClient.builder().baseUrl(gw.url("/v1")).apiKey("sk-test").build();
    try {
      ChatCompletion completion = client
          .chat()
          .completions()
          .create(ChatCompletionCreateParams.builder()
              .model("sdk-chat")
              .addUserMessage("hello from the java sdk")
              .build());

      assertThat(completion.model()).isEqualTo("gpt-4o-mini");
      assertThat(completion.choices().get(0).message().content())
          .hasValue("Mock answer: hello from the java sdk");
      assertThat(completion.usage().orElseThrow().completionTokens()).isPositive();

      List<ChatCompletionChunk> chunks;
      try (com.openai.core.http.StreamResponse<ChatCompletionChunk> stream = client
          .chat()
          .completions()
          .createStreaming(ChatCompletionCreateParams.builder()
              .model("sdk-chat")
              .addUserMessage("stream from the java sdk")
              .streamOptions(
                  ChatCompletionStreamOptions.builder().includeUsage(true).build())
              .build())) {
        chunks = stream.stream().toList();
      }
      String text = chunks.stream()
          .flatMap(c -> c.choices().stream())
          .map(choice -> choice.delta().content().orElse(""))
          .collect(Collectors.joining());
      assertThat(text).isEqualTo("Mock answer: stream from the java sdk");
      assertThat(chunks.get(chunks.size() - 1).usage()).hasValueSatisfying(u -> {
        assertThat(u.promptTokens()).isPositive();
        assertThat(u.completionTokens()).isPositive();
      });
    } finally {
      client.close();
    }
  }

  @Test
  void theJavaAnthropicSdkGetsAMessageAndAStream() {
    Gateway gw = GATEWAY.get();
    AnthropicClient client = AnthropicOkHttpClient.builder()
        .baseUrl(gw.url(""))
        .apiKey("sk-ant-test")
        .build();
    try {
      Message message = client
          .messages()
          .create(MessageCreateParams.builder()
              .model("sdk-claude")
              .maxTokens(64)
              .addUserMessage("hello from the java sdk")
              .build());

      assertThat(message.model().asString()).isEqualTo("claude-3-5-haiku-latest");
      assertThat(message.content().get(0).asText().text())
          .isEqualTo("Mock answer: hello from the java sdk");
      assertThat(message.usage().outputTokens()).isPositive();

      MessageAccumulator accumulator = MessageAccumulator.create();
      try (StreamResponse<RawMessageStreamEvent> stream = client
          .messages()
          .createStreaming(MessageCreateParams.builder()
              .model("sdk-claude")
              .maxTokens(64)
              .addUserMessage("stream from the java sdk")
              .build())) {
        stream.stream().forEach(accumulator::accumulate);
      }
      Message streamed = accumulator.message();
      assertThat(streamed.content().get(0).asText().text())
          .isEqualTo("Mock answer: stream from the java sdk");
      assertThat(streamed.model().asString()).isEqualTo("claude-3-5-haiku-latest");
      assertThat(streamed.usage().outputTokens()).isPositive();
    } finally {
      client.close();
    }
  }

  /**
   * Runs {@code it-tests/sdk/run-sdk-tests.sh} against the gateway and returns its combined output,
   * which is also kept in the gateway's work directory. Skips the test when the script says the
   * toolchain or the registry is unavailable; fails on any other non-zero exit.
   */
  private static String runSdkTests(String language) throws IOException, InterruptedException {
    Gateway gw = GATEWAY.get();
    Path script = RepoFiles.root().resolve("it-tests/sdk/run-sdk-tests.sh");
    Path log = gw.work.resolve("sdk-" + language + ".log");
    Process process = new ProcessBuilder("bash", script.toString(), gw.url(""), language)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    process.getOutputStream().close();
    if (!process.waitFor(SCRIPT_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      throw new AssertionError(
          script + " " + language + " did not finish within " + SCRIPT_TIMEOUT_MINUTES
              + " minutes; output so far:\n" + Files.readString(log, StandardCharsets.UTF_8));
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println("[SDK " + language + "] output in " + log);
    if (process.exitValue() == UNAVAILABLE) {
      String reason = output
          .lines()
          .filter(l -> l.startsWith("run-sdk-tests:"))
          .reduce((a, b) -> b)
          .orElse(script + " exited " + UNAVAILABLE);
      System.out.println("[SKIPPED] " + language + " SDK tests: " + reason);
      Assumptions.abort(reason);
    }
    assertThat(process.exitValue())
        .as("exit code of %s %s; output:\n%s", script, language, output)
        .isZero();
    return output;
  }
}
