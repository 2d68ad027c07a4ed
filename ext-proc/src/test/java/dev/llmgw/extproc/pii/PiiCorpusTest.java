package dev.llmgw.extproc.pii;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Precision and recall of {@link PiiScanner#standard()} on the labelled corpus
 * ({@code pii/corpus.jsonl}): positives in several languages and formats, and hard negatives that
 * look like PII but are not. A finding counts only if type and span match a label exactly; a
 * finding on a hard negative counts against the type that fired.
 */
class PiiCorpusTest {

  private static final double CHECKSUM_PRECISION = 0.99;
  private static final double CHECKSUM_RECALL = 0.98;
  private static final double OTHER_PRECISION = 0.95;
  private static final double OTHER_RECALL = 0.95;

  private static List<Example> corpus;

  @BeforeAll
  static void load() throws IOException {
    corpus = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (InputStream in =
            Objects.requireNonNull(PiiCorpusTest.class.getResourceAsStream("/pii/corpus.jsonl"));
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank()) {
          corpus.add(Example.parse(json.readTree(line)));
        }
      }
    }
  }

  @Test
  void corpusHasEnoughPositivesNegativesAndExamplesOfEveryType() {
    long positives = corpus.stream().filter(e -> !e.labels.isEmpty()).count();
    long negatives = corpus.stream().filter(e -> e.labels.isEmpty()).count();
    assertThat(positives).as("positive examples").isGreaterThanOrEqualTo(300);
    assertThat(negatives).as("hard negatives").isGreaterThanOrEqualTo(300);
    for (EntityType type : EntityType.values()) {
      long examples = corpus.stream()
          .filter(e -> e.labels.stream().anyMatch(l -> l.type() == type))
          .count();
      assertThat(examples).as("examples with %s", type).isGreaterThanOrEqualTo(20);
    }
    assertThat(corpus.stream().filter(e -> e.labels.isEmpty()).allMatch(e -> e.note != null))
        .as("every hard negative says which trap it is")
        .isTrue();
    assertThat(corpus.stream().map(e -> e.lang).distinct().count())
        .as("languages")
        .isGreaterThanOrEqualTo(6);
  }

  @Test
  void everyTypeMeetsItsPrecisionAndRecallTarget() {
    PiiScanner scanner = PiiScanner.standard();
    Map<EntityType, int[]> counts = new EnumMap<>(EntityType.class); // tp, fp, fn
    for (EntityType type : EntityType.values()) {
      counts.put(type, new int[3]);
    }
    List<String> errors = new ArrayList<>();
    for (Example example : corpus) {
      Set<Finding> expected = new HashSet<>(example.labels);
      for (Finding found : scanner.scan(example.text)) {
        if (expected.remove(found)) {
          counts.get(found.type())[0]++;
        } else {
          counts.get(found.type())[1]++;
          errors.add("FP " + example.id + " " + found.type() + " ["
              + example.text.substring(found.start(), found.end()) + "]"
              + (example.note != null ? " (" + example.note + ")" : ""));
        }
      }
      for (Finding missed : expected) {
        counts.get(missed.type())[2]++;
        errors.add("FN " + example.id + " " + missed.type() + " ["
            + example.text.substring(missed.start(), missed.end()) + "]");
      }
    }
    StringBuilder table =
        new StringBuilder("\n| type | labels | TP | FP | FN | precision | recall | target P/R |\n"
            + "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    List<String> failures = new ArrayList<>();
    for (EntityType type : EntityType.values()) {
      int[] c = counts.get(type);
      double precision = c[0] + c[1] == 0 ? 1 : (double) c[0] / (c[0] + c[1]);
      double recall = c[0] + c[2] == 0 ? 1 : (double) c[0] / (c[0] + c[2]);
      double minPrecision = type.checksumValidated() ? CHECKSUM_PRECISION : OTHER_PRECISION;
      double minRecall = type.checksumValidated() ? CHECKSUM_RECALL : OTHER_RECALL;
      table.append(String.format(
          "| %s | %d | %d | %d | %d | %.3f | %.3f | %.2f/%.2f |%n",
          type, c[0] + c[2], c[0], c[1], c[2], precision, recall, minPrecision, minRecall));
      if (precision < minPrecision || recall < minRecall) {
        failures.add(type
            + String.format(
                ": precision %.3f (min %.2f), recall %.3f (min %.2f)",
                precision, minPrecision, recall, minRecall));
      }
    }
    System.out.println(table);
    errors.forEach(System.out::println);
    assertThat(failures)
        .as("types below target; table and misses printed above")
        .isEmpty();
  }

  /** One corpus line; labels are resolved to spans (a repeated value takes its next occurrence). */
  private record Example(String id, String lang, String text, List<Finding> labels, String note) {

    static Example parse(JsonNode node) {
      String text = node.get("text").asText();
      List<Finding> labels = new ArrayList<>();
      Map<String, Integer> nextFrom = new java.util.HashMap<>();
      for (JsonNode entity : node.get("entities")) {
        EntityType type = EntityType.valueOf(entity.get("type").asText());
        String value = entity.get("value").asText();
        int at = text.indexOf(value, nextFrom.getOrDefault(value, 0));
        if (at < 0) {
          throw new IllegalStateException(
              node.get("id").asText() + ": label is not a substring of the text");
        }
        nextFrom.put(value, at + value.length());
        labels.add(new Finding(type, at, at + value.length()));
      }
      return new Example(
          node.get("id").asText(),
          node.get("lang").asText(),
          text,
          labels,
          node.hasNonNull("note") ? node.get("note").asText() : null);
    }
  }
}
