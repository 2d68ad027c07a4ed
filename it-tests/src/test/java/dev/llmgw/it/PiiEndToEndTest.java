package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Personal data through the real Envoy: masked before the provider sees a byte of it, restored in
 * JSON answers and in SSE streams as Envoy really chunks them, and look-alikes left alone.
 */
@RequiresEnvoy
class PiiEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("llm");

  private static final List<String> PERSONAL =
      List.of("jane.doe@example.com", "+44 20 7946 0958", "4009 9013 3512 9609");
  private static final String TEXT =
      "Write to jane.doe@example.com or call +44 20 7946 0958; my card is 4009 9013 3512 9609.";
  private static final List<String> HARD_NEGATIVES = List.of(
      "Your order #4532-1188-2290 has shipped.",
      "Invoice INV-2024-000123 is overdue.",
      "Tracking number 1Z999AA10123456784 shows it in transit.",
      "FedEx tracking 7489 2345 6789 0123 is out for delivery.");

  @BeforeAll
  static void policy() {
    Gateway gw = GATEWAY.get();
    gw.rest(
        "PUT",
        "/v1/pii-policies/default",
        "{\"applies_to\":\"default\",\"entities\":{\"email\":\"mask\","
            + "\"phone\":\"mask\",\"credit_card\":\"mask\",\"secret\":\"block\"},\"restore\":true}");
    gw.put("/v1/models/chat", "{\"route\":\"llm\",\"model\":\"gpt-4o-mini\"}");
  }

  @AfterEach
  void reset() {
    GATEWAY.get().provider("llm").reset();
    GATEWAY.get().provider("llm").clearReceived();
  }

  private static String chat(String text, boolean stream) {
    return "{\"model\":\"chat\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":" + quote(text) + "}]}";
  }

  private static String quote(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static void assertNothingPersonalReached(MockProvider mock) {
    assertThat(mock.received()).isNotEmpty();
    for (MockProvider.Received r : mock.received()) {
      String body = new String(r.body(), StandardCharsets.UTF_8);
      for (String value : PERSONAL) {
        assertThat(body).doesNotContain(value);
      }
      assertThat(body).doesNotContain("jane.doe").doesNotContain("3512 9609");
    }
  }

  @Test
  void personalDataIsMaskedOnTheWayUpAndRestoredInAJsonAnswer() {
    Gateway gw = GATEWAY.get();
    HttpResponse<String> r = gw.post("/v1/chat/completions", chat(TEXT, false));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertNothingPersonalReached(gw.provider("llm"));
    assertThat(gw.provider("llm").received().get(0).bodyText()).contains("<EMAIL_1>");
    String answer = Gateway.json(r.body())
        .path("choices")
        .path(0)
        .path("message")
        .path("content")
        .asText();
    assertThat(answer).isEqualTo("Mock answer: " + TEXT);
  }

  @Test
  void personalDataIsRestoredInAStreamWhosePlaceholdersAreSplitAcrossEvents() {
    Gateway gw = GATEWAY.get();
    gw.provider("llm").sseChunkChars(3);

    HttpResponse<String> r = gw.post("/v1/chat/completions", chat(TEXT, true));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(ct -> assertThat(ct).startsWith("text/event-stream"));
    assertNothingPersonalReached(gw.provider("llm"));
    assertThat(streamedContent(r.body())).isEqualTo("Mock answer: " + TEXT);
    assertThat(r.body()).contains("data: [DONE]");
  }

  @Test
  void lookAlikesOfPersonalDataReachTheProviderUntouched() {
    Gateway gw = GATEWAY.get();
    String text = String.join(" ", HARD_NEGATIVES);

    HttpResponse<String> r = gw.post("/v1/chat/completions", chat(text, false));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("llm").received())
        .singleElement()
        .satisfies(req -> assertThat(req.bodyText()).contains(quote(text)));
  }

  @Test
  void aSecretBlocksTheRequestInTheCallersErrorShapeAndNothingReachesTheProvider() {
    Gateway gw = GATEWAY.get();
    String secret = "my key is AKIA" + "IOSFODNN7EXAMPLE please keep it";

    HttpResponse<String> r = gw.post("/v1/chat/completions", chat(secret, false));

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Gateway.json(r.body()).path("error").path("code").asText()).isEqualTo("pii_blocked");
    assertThat(r.body()).doesNotContain("AKIA");
    assertThat(gw.provider("llm").received()).isEmpty();
  }

  /** The concatenated {@code delta.content} of an OpenAI chat stream. */
  static String streamedContent(String sse) {
    StringBuilder content = new StringBuilder();
    for (String line : sse.split("\n")) {
      if (!line.startsWith("data: ") || line.equals("data: [DONE]")) {
        continue;
      }
      JsonNode chunk = Gateway.json(line.substring(6));
      JsonNode delta = chunk.path("choices").path(0).path("delta").path("content");
      if (delta.isTextual()) {
        content.append(delta.asText());
      }
    }
    return content.toString();
  }
}
