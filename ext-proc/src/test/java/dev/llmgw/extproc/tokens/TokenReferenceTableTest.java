package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.extproc.api.LlmApi;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference table (src/test/resources/tokens/reference-prompts.json): every request's count
 * must equal the expected value exactly, and be labelled exact or not as the table says. Each
 * row names the source of its expected value; see derive-expected.cjs for the kinds.
 */
class TokenReferenceTableTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode table;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in =
        TokenReferenceTableTest.class.getResourceAsStream("/tokens/reference-prompts.json")) {
      table = JSON.readTree(in);
    }
  }

  static Stream<JsonNode> rows() throws Exception {
    if (table == null) {
      load();
    }
    List<JsonNode> rows = new ArrayList<>();
    table.get("rows").forEach(rows::add);
    return rows.stream();
  }

  static Stream<Arguments> namedRows() throws Exception {
    return rows().map(r -> Arguments.of(r.get("id").asText(), r));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("namedRows")
  void countMatchesTheReferenceExactly(String id, JsonNode row) throws Exception {
    LlmApi api = LlmApi.valueOf(row.get("api").asText());
    ModelSpec spec = ModelCatalog.builtIn().resolve(row.get("model").asText(), api.family());
    byte[] body = JSON.writeValueAsBytes(row.get("body"));

    PromptCount count = PromptCounter.count(api, body, spec);

    assertThat(count.tokens())
        .as("%s (%s)", id, row.get("source").asText())
        .isEqualTo(row.get("expected").asInt());
    assertThat(count.exact())
        .as("%s is labelled exact=%s", id, row.get("exact").asBoolean())
        .isEqualTo(row.get("exact").asBoolean());
  }

  @Test
  void tableHasAtLeastThirtyRowsWithPublishedCountsForBothEncodingsAndEveryKindOfContent()
      throws Exception {
    Map<String, Integer> kinds = new TreeMap<>();
    List<String> ids = new ArrayList<>();
    rows().forEach(r -> {
      kinds.merge(r.get("kind").asText(), 1, Integer::sum);
      ids.add(r.get("id").asText());
      assertThat(r.get("source").asText())
          .as("source of %s", r.get("id").asText())
          .isNotBlank();
    });

    assertThat(ids).hasSizeGreaterThanOrEqualTo(30).doesNotHaveDuplicates();
    assertThat(kinds)
        .containsKeys(
            "published-api", "published-tokenizer", "derived", "approximation", "estimate");
    assertThat(kinds.get("published-api")).isGreaterThanOrEqualTo(30);
    assertThat(ids)
        .contains(
            "cookbook-messages-gpt-4o",
            "cookbook-messages-gpt-4",
            "cookbook-tools-gpt-4o-mini",
            "cookbook-tools-gpt-3.5-turbo",
            "derived-emoji-gpt-4o",
            "derived-python-code-gpt-4o",
            "derived-cjk-gpt-4o-mini",
            "derived-names-german-gpt-4o",
            "derived-nested-tools-gpt-4o");
  }
}
