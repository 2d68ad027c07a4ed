package dev.llmgw.extproc.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestBodyInspectorTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void findsModelStreamAndOffsets() throws Exception {
    byte[] body = utf8(
        "{ \"messages\": [{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}], \"model\" : \"fast\", \"stream\": true }");
    RequestBodyInspector.Facts facts = RequestBodyInspector.inspect(body);

    assertThat(facts.model()).isEqualTo("fast");
    assertThat(new String(
            body,
            facts.modelStart(),
            facts.modelEnd() - facts.modelStart(),
            StandardCharsets.UTF_8))
        .isEqualTo("\"fast\"");
    assertThat(facts.stream()).isTrue();
    assertThat(facts.hasStreamOptions()).isFalse();
    assertThat(body[facts.closingBraceOffset()]).isEqualTo((byte) '}');
  }

  @Test
  void rewriteChangesOnlyTheModelValueByteForByte() throws Exception {
    String original =
        "{\"model\":\"fast\",\"temperature\":1.0,\"n\":10000000000000000001,\"messages\":[{\"role\":\"user\",\"content\":\"Grüße \\u00e9 😀\"}]}";
    byte[] body = utf8(original);
    byte[] out =
        BodyRewriter.rewrite(body, RequestBodyInspector.inspect(body), "gpt-4o-mini", false);

    assertThat(new String(out, StandardCharsets.UTF_8))
        .isEqualTo(original.replace("\"fast\"", "\"gpt-4o-mini\""));
  }

  @Test
  void rewriteEscapesModelNamesAndCanAddIncludeUsage() throws Exception {
    byte[] body = utf8("{\"model\":\"m\",\"stream\":true}\n");
    byte[] out = BodyRewriter.rewrite(body, RequestBodyInspector.inspect(body), "we\"ird", true);

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
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("{\"model\":\"a\",")))
        .isInstanceOfSatisfying(RequestBodyInspector.BadBodyException.class, e -> {
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
    assertThatThrownBy(() -> RequestBodyInspector.inspect(body))
        .isInstanceOfSatisfying(RequestBodyInspector.BadBodyException.class, e -> {
          assertThat(e.error().code()).isEqualTo("invalid_utf8");
          assertThat(e.error().message()).contains("not valid UTF-8 near byte 10");
        });
  }

  @Test
  void rejectsMissingEmptyAndNonStringModel() {
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("{\"messages\":[]}")))
        .isInstanceOfSatisfying(
            RequestBodyInspector.BadBodyException.class,
            e -> assertThat(e.error().code()).isEqualTo("missing_model"));
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("{\"model\":\" \"}")))
        .isInstanceOfSatisfying(
            RequestBodyInspector.BadBodyException.class,
            e -> assertThat(e.error().message()).contains("\"model\" is empty"));
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("{\"model\":42}")))
        .isInstanceOfSatisfying(
            RequestBodyInspector.BadBodyException.class,
            e -> assertThat(e.error().message())
                .isEqualTo("\"model\" is a number (expected: a non-empty string)"));
  }

  @Test
  void rejectsNonObjectsAndTrailingContent() {
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("[1,2]")))
        .hasMessageContaining("not an object");
    assertThatThrownBy(() -> RequestBodyInspector.inspect(utf8("{\"model\":\"a\"} {}")))
        .hasMessageContaining("content after the JSON object");
    assertThatThrownBy(() -> RequestBodyInspector.inspect(new byte[0]))
        .hasMessageContaining("empty");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
