package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Large bodies through the real Envoy: below the documented request limit (10 MiB by default:
 * Envoy's buffer, the gRPC message size and ext-proc's check are aligned on it) they pass whole,
 * above it the caller gets a 413 in its API's error shape; large SSE events stream through.
 */
@RequiresEnvoy
class BodyLimitsEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("llm");

  private static final int LIMIT = 10 * 1024 * 1024;

  @BeforeAll
  static void alias() {
    // A model without a known context window: megabytes of prose are far more tokens than any
    // model takes, and this test is about bytes, not the context-window check.
    GATEWAY.get().put("/v1/models/chat", "{\"route\":\"llm\",\"model\":\"chat\"}");
  }

  @AfterEach
  void reset() {
    GATEWAY.get().provider("llm").reset();
    GATEWAY.get().provider("llm").clearReceived();
  }

  /** A chat request of exactly {@code size} bytes whose one message is ordinary prose. */
  private static String chatOfSize(int size) {
    String head = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"";
    String tail = "\"}]}";
    String sentence = "The quick brown fox jumps over the lazy dog near the river bank. ";
    StringBuilder b = new StringBuilder(size).append(head);
    while (b.length() + sentence.length() + tail.length() <= size) {
      b.append(sentence);
    }
    while (b.length() + tail.length() < size) {
      b.append('x');
    }
    return b.append(tail).toString();
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {32 * 1024, 1024 * 1024, 8 * 1024 * 1024})
  void aRequestBelowTheLimitReachesTheProviderWhole(int size) {
    Gateway gw = GATEWAY.get();
    String body = chatOfSize(size);

    HttpResponse<String> r = gw.post("/v1/chat/completions", body);

    assertThat(r.statusCode()).as(abbreviate(r.body())).isEqualTo(200);
    assertThat(gw.provider("llm").received())
        .singleElement()
        .satisfies(req -> assertThat(req.body()).hasSize(size));
  }

  @Test
  void aRequestAboveTheLimitGets413InTheCallersErrorShapeAndNothingIsForwarded() {
    Gateway gw = GATEWAY.get();

    HttpResponse<String> openai = gw.post("/v1/chat/completions", chatOfSize(LIMIT + 1));
    HttpResponse<String> anthropic = gw.post(
        "/v1/messages",
        chatOfSize(LIMIT + 1)
            .replace("{\"model\":\"chat\",", "{\"model\":\"chat\",\"max_tokens\":10,"),
        "anthropic-version",
        "2023-06-01");

    assertThat(openai.statusCode()).isEqualTo(413);
    assertThat(Gateway.json(openai.body()).path("error").path("code").asText())
        .isEqualTo("request_too_large");
    assertThat(anthropic.statusCode()).isEqualTo(413);
    assertThat(Gateway.json(anthropic.body()).path("type").asText()).isEqualTo("error");
    assertThat(gw.provider("llm").received()).isEmpty();
  }

  @Test
  void aStreamWithA64KiBEventArrivesWhole() {
    Gateway gw = GATEWAY.get();
    String text = "lorem ipsum ".repeat(64 * 1024 / 12 + 1);
    gw.provider("llm").answerWith(text);
    gw.provider("llm").sseChunkChars(text.length());

    HttpResponse<String> r = gw.post(
        "/v1/chat/completions",
        "{\"model\":\"chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"long please\"}]}");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(PiiEndToEndTest.streamedContent(r.body())).isEqualTo(text);
    assertThat(r.body()).contains("data: [DONE]");
  }

  private static String abbreviate(String s) {
    return s.length() <= 500 ? s : s.substring(0, 500) + "...";
  }
}
