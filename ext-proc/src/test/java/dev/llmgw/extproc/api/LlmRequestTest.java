package dev.llmgw.extproc.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LlmRequestTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void findsModelAndStreamAndForwardsTheVeryBytesWhenNothingChanged() throws Exception {
    byte[] body = utf8(
        "{ \"messages\": [{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}], \"model\" : \"fast\", \"stream\": true }");
    LlmRequest request = LlmRequest.parse(body);

    assertThat(request.model()).isEqualTo("fast");
    assertThat(request.stream()).isTrue();
    assertThat(request.hasStreamOptions()).isFalse();
    assertThat(request.root().at("/messages/0/content").textValue()).isEqualTo("hi \"there\"");
    assertThat(request.changed()).isFalse();
    assertThat(request.forwarded()).isSameAs(body);
  }

  @Test
  void rewriteChangesOnlyTheModelValueByteForByte() throws Exception {
    String original =
        "{\"model\":\"fast\",\"temperature\":1.0,\"n\":10000000000000000001,\"messages\":[{\"role\":\"user\",\"content\":\"Grüße \\u00e9 😀\"}]}";
    byte[] body = utf8(original);
    LlmRequest request = LlmRequest.parse(body);
    request.setModel("gpt-4o-mini");
    byte[] out = request.forwarded();

    assertThat(new String(out, StandardCharsets.UTF_8))
        .isEqualTo(original.replace("\"fast\"", "\"gpt-4o-mini\""));
  }

  @Test
  void rewriteEscapesModelNamesAndCanAddIncludeUsage() throws Exception {
    byte[] body = utf8("{\"model\":\"m\",\"stream\":true}\n");
    LlmRequest request = LlmRequest.parse(body);
    request.setModel("we\"ird");
    request.addField(
        "stream_options",
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
            .objectNode()
            .put("include_usage", true));
    byte[] out = request.forwarded();

    JsonNode tree = JSON.readTree(out);
    assertThat(tree.get("model").asText()).isEqualTo("we\"ird");
    assertThat(tree.at("/stream_options/include_usage").asBoolean()).isTrue();
    ObjectNode expected = (ObjectNode) JSON.readTree(body);
    expected.put("model", "we\"ird");
    expected.putObject("stream_options").put("include_usage", true);
    assertThat(tree).isEqualTo(expected);
  }

  @Test
  void rejectsMalformedJsonWithPosition() {
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":\"a\",")))
        .isInstanceOfSatisfying(LlmRequest.BadRequestException.class, e -> {
          assertThat(e.error().status()).isEqualTo(400);
          assertThat(e.error().code()).isEqualTo("invalid_json");
          assertThat(e.error().message())
              .contains("not valid JSON")
              .contains("expected: a JSON object");
        });
  }

  @Test
  void rejectsInvalidUtf8WithOffset() {
    byte[] body = {
      '{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'
    };
    assertThatThrownBy(() -> LlmRequest.parse(body))
        .isInstanceOfSatisfying(LlmRequest.BadRequestException.class, e -> {
          assertThat(e.error().code()).isEqualTo("invalid_utf8");
          assertThat(e.error().message()).contains("not valid UTF-8 near byte 10");
        });
  }

  @Test
  void rejectsMissingEmptyAndNonStringModel() {
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"messages\":[]}")))
        .isInstanceOfSatisfying(
            LlmRequest.BadRequestException.class,
            e -> assertThat(e.error().code()).isEqualTo("missing_model"));
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":\" \"}")))
        .isInstanceOfSatisfying(
            LlmRequest.BadRequestException.class,
            e -> assertThat(e.error().message()).contains("\"model\" is empty"));
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":42}")))
        .isInstanceOfSatisfying(
            LlmRequest.BadRequestException.class,
            e -> assertThat(e.error().message())
                .isEqualTo("\"model\" is a number (expected: a non-empty string)"));
  }

  @Test
  void rejectsNonObjectsAndTrailingContent() {
    assertThatThrownBy(() -> LlmRequest.parse(utf8("[1,2]"))).hasMessageContaining("not an object");
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":\"a\"} {}")))
        .hasMessageContaining("content after the JSON object");
    assertThatThrownBy(() -> LlmRequest.parse(new byte[0])).hasMessageContaining("empty");
  }

  @Test
  void duplicateKeysAnywhereAreRefusedNamingTheKeyAndWhere() {
    // Issue 18, finding 1: the gateway would check one value and the provider read the other.
    assertThatThrownBy(
            () -> LlmRequest.parse(utf8("{\"model\":\"a\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"AKIAIOSFODNN7EXAMPLE\",\"content\":\"hi\"}]}")))
        .isInstanceOfSatisfying(LlmRequest.BadRequestException.class, e -> {
          assertThat(e.error().status()).isEqualTo(400);
          assertThat(e.error().code()).isEqualTo("duplicate_key");
          assertThat(e.error().message())
              .contains("\"content\"")
              .contains("/messages/0/content")
              .contains("byte 73")
              .contains("expected: each key at most once");
        });
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":\"a\",\"model\":\"b\"}")))
        .hasMessageContaining("repeats the key \"model\" at /model");
    assertThatThrownBy(
            () -> LlmRequest.parse(utf8("{\"model\":\"a\",\"tools\":[{\"x\":{\"y\":1,\"y\":2}}]}")))
        .hasMessageContaining("/tools/0/x/y");
  }

  @Test
  void nestingDeeperThanTheLimitIsRefusedWithTheReasonAndOffset() throws Exception {
    String ok = "[".repeat(LlmRequest.MAX_DEPTH - 1) + "]".repeat(LlmRequest.MAX_DEPTH - 1);
    assertThat(LlmRequest.parse(utf8("{\"model\":\"a\",\"x\":" + ok + "}")).model())
        .isEqualTo("a");
    String deep = "[".repeat(LlmRequest.MAX_DEPTH) + "]".repeat(LlmRequest.MAX_DEPTH);
    assertThatThrownBy(() -> LlmRequest.parse(utf8("{\"model\":\"a\",\"x\":" + deep + "}")))
        .isInstanceOfSatisfying(LlmRequest.BadRequestException.class, e -> {
          assertThat(e.error().code()).isEqualTo("invalid_json");
          assertThat(e.error().message())
              .contains("129 levels deep at byte " + (17 + LlmRequest.MAX_DEPTH - 1))
              .contains("expected: at most 128 levels");
        });
  }

  @Test
  void aByteOrderMarkIsNotForwarded() throws Exception {
    byte[] body = utf8("\uFEFF{\"model\":\"a\"}");
    LlmRequest request = LlmRequest.parse(body);

    assertThat(request.changed()).isTrue();
    assertThat(new String(request.forwarded(), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":\"a\"}");
  }

  @Test
  void replacedTextsAreSplicedLeavingEveryOtherByteAsSent() throws Exception {
    String original = "{ \"model\":\"m\", \"n\": 1e999999999, \"x\":1.50,"
        + " \"messages\":[{\"role\":\"user\",\"content\":\"mail a@b.example \\u00e9\"},"
        + "{\"role\":\"user\",\"content\":\"same\"}] }";
    LlmRequest request = LlmRequest.parse(utf8(original));
    com.fasterxml.jackson.databind.node.ObjectNode message =
        (com.fasterxml.jackson.databind.node.ObjectNode) request.root().at("/messages/0");
    message.set("content", request.replaceText(message.get("content"), "mail <EMAIL_1> é"));
    com.fasterxml.jackson.databind.JsonNode same = request.root().at("/messages/1/content");

    assertThat(request.replaceText(same, "same")).isSameAs(same);
    assertThat(new String(request.forwarded(), StandardCharsets.UTF_8))
        .isEqualTo(original.replace("mail a@b.example \\u00e9", "mail <EMAIL_1> é"));
    assertThat(request.root().at("/messages/0/content").textValue()).isEqualTo("mail <EMAIL_1> é");
    // A text replaced twice keeps only the last replacement.
    message.set("content", request.replaceText(message.get("content"), "x\"y"));
    assertThat(new String(request.forwarded(), StandardCharsets.UTF_8))
        .isEqualTo(original.replace("mail a@b.example \\u00e9", "x\\\"y"));
  }

  @Test
  void replaceTextRefusesNodesOfAnotherTree() throws Exception {
    LlmRequest request = LlmRequest.parse(utf8("{\"model\":\"m\"}"));
    assertThatThrownBy(() ->
            request.replaceText(com.fasterxml.jackson.databind.node.TextNode.valueOf("m"), "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a string value of this request");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
