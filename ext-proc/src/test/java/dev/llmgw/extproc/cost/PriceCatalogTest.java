package dev.llmgw.extproc.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.extproc.tokens.ModelCatalog;
import dev.llmgw.extproc.tokens.ModelSpec;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in price catalog, name resolution, operator overrides and errors on malformed files. */
class PriceCatalogTest {

  /**
   * Models of the model catalog (tokens/models.yaml) that deliberately have no price, and why. A model
   * here is never priced at a guess: its exchanges are reported unpriced (reason unknown_model).
   */
  private static final Map<String, String> UNPRICED = Map.ofEntries(
      Map.entry("gpt-5-chat-latest", "no stored copy of its price was found on 2026-11-22"),
      Map.entry("chatgpt-4o-latest", "no stored copy of its price was found on 2026-11-22"),
      Map.entry(
          "o1-pro", "not confirmed on an OpenAI page; third-party lists were not cross-checked"),
      Map.entry(
          "o3-pro",
          "not confirmed on an OpenAI page; third-party lists disagree ($20/$80 vs $150/$150)"),
      Map.entry("o1-mini", "legacy; not confirmed on an OpenAI page"),
      Map.entry("o1-preview", "legacy; no stored copy of its price was found"),
      Map.entry("gpt-4-turbo", "legacy; its model page was not found"),
      Map.entry(
          "gpt-4-1106-preview",
          "legacy; the gpt-4-turbo-preview page prices only its default snapshot gpt-4-0125-preview"),
      Map.entry("gpt-4-32k", "legacy; its price was not found"),
      Map.entry("gpt-3.5-turbo", "legacy; its model page was not found"),
      Map.entry("gpt-3.5-turbo-0613", "legacy snapshot; its price was not found"),
      Map.entry("gpt-3.5-turbo-16k", "legacy; its price was not found"),
      Map.entry("gpt-3.5-turbo-instruct", "legacy completions model; its price was not found"),
      Map.entry("davinci-002", "legacy completions model; its price was not found"),
      Map.entry("babbage-002", "legacy completions model; its price was not found"),
      Map.entry("text-embedding-ada-002", "legacy embeddings model; its price was not confirmed"));

  @Test
  void builtInCatalogHasAVersionAndEveryEntryHasAnHttpsSourceAndADate() {
    PriceCatalog catalog = PriceCatalog.builtIn();

    assertThat(catalog.version()).isEqualTo("2026-11-22.2");
    assertThat(catalog.prices()).hasSizeGreaterThanOrEqualTo(30);
    catalog.prices().forEach((name, price) -> {
      assertThat(price.model()).isEqualTo(name);
      assertThat(price.source()).as(name + ".source").startsWith("https://");
      assertThat(price.asOf())
          .as(name + ".as_of")
          .isBetween(LocalDate.of(2025, 1, 1), LocalDate.of(2026, 11, 22));
    });
  }

  @Test
  void everyModelTheBriefNamesIsPriced() {
    List<String> required = List.of(
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "claude-opus-4",
        "claude-opus-4-1",
        "claude-sonnet-4",
        "claude-sonnet-4-5",
        "claude-3-5-haiku",
        "claude-haiku-4-5",
        "claude-3-7-sonnet");

    assertThat(required)
        .allSatisfy(m -> assertThat(PriceCatalog.builtIn().find(m)).as(m).isPresent());
  }

  @Test
  void everyModelOfTheModelCatalogIsPricedOrListedAsUnpricedWithAReason() {
    PriceCatalog prices = PriceCatalog.builtIn();
    List<String> neither = new ArrayList<>();
    List<String> both = new ArrayList<>();
    for (String model : ModelCatalog.builtIn().models().keySet()) {
      boolean priced = prices.find(model).isPresent();
      boolean excused = UNPRICED.containsKey(model);
      if (!priced && !excused) {
        neither.add(model);
      }
      if (priced && excused) {
        both.add(model);
      }
    }

    assertThat(neither)
        .as("models.yaml models without a price: add one to prices.yaml or to UNPRICED")
        .isEmpty();
    assertThat(both).as("priced models still listed as unpriced").isEmpty();
    assertThat(ModelCatalog.builtIn().models())
        .as("UNPRICED names only models.yaml models")
        .containsKeys(UNPRICED.keySet().toArray(String[]::new));
  }

  @Test
  void reasoningModelsStateTheirReasoningRateExplicitlyAsTheOutputRate() {
    PriceCatalog prices = PriceCatalog.builtIn();
    for (ModelSpec spec : ModelCatalog.builtIn().models().values()) {
      prices.find(spec.name()).filter(p -> spec.reasoning()).ifPresent(p -> {
        assertThat(p.reasoning()).as(p.model() + ".reasoning").isNotNull();
        assertThat(p.reasoning()).as(p.model() + ".reasoning").isEqualByComparingTo(p.output());
      });
    }
    assertThat(prices.find("o3").orElseThrow().reasoning()).isEqualByComparingTo("8.00");
    assertThat(prices.find("gpt-5-nano").orElseThrow().reasoning()).isEqualByComparingTo("0.40");
  }

  @Test
  void anthropicEntriesCarryTheFiveMinuteCacheWriteAndTheCacheReadRates() {
    ModelPrice sonnet = PriceCatalog.builtIn().find("claude-sonnet-4-5").orElseThrow();

    assertThat(sonnet.input()).isEqualByComparingTo("3");
    assertThat(sonnet.cacheWrite()).isEqualByComparingTo("3.75");
    assertThat(sonnet.cachedInput()).isEqualByComparingTo("0.30");
    assertThat(sonnet.output()).isEqualByComparingTo("15");
    assertThat(sonnet.longContext().abovePromptTokens()).isEqualTo(200000);
  }

  // ---------------------------------------------------------------- name resolution

  @Test
  void datedSnapshotsResolveToTheirModel() {
    PriceCatalog prices = PriceCatalog.builtIn();

    assertThat(prices.find("gpt-4o-2024-08-06").orElseThrow().model()).isEqualTo("gpt-4o");
    assertThat(prices.find("gpt-4o-mini-2024-07-18").orElseThrow().model())
        .isEqualTo("gpt-4o-mini");
    assertThat(prices.find("o3-mini-2025-01-31").orElseThrow().model()).isEqualTo("o3-mini");
    assertThat(prices.find("gpt-5-2025-08-07").orElseThrow().model()).isEqualTo("gpt-5");
    assertThat(prices.find("claude-sonnet-4-5-20250929").orElseThrow().model())
        .isEqualTo("claude-sonnet-4-5");
    assertThat(prices.find("claude-opus-4-20250514").orElseThrow().model())
        .isEqualTo("claude-opus-4");
    assertThat(prices.find("claude-3-5-haiku-latest").orElseThrow().model())
        .isEqualTo("claude-3-5-haiku");
  }

  @Test
  void anExactEntryWinsOverTheSnapshotRule() {
    assertThat(PriceCatalog.builtIn().find("gpt-4o-2024-05-13").orElseThrow().input())
        .isEqualByComparingTo("5.00");
  }

  @Test
  void namesThatOnlyStartLikeAListedModelAreNotPriced() {
    PriceCatalog prices = PriceCatalog.builtIn();

    assertThat(prices.find("o3-pro")).as("priced 10x o3").isEmpty();
    assertThat(prices.find("claude-opus-4-7")).as("not claude-opus-4").isEmpty();
    assertThat(prices.find("gpt-4o-audio-preview")).isEmpty();
    assertThat(prices.find("gpt-4o-realtime-preview-2024-12-17")).isEmpty();
    assertThat(prices.find("ft:gpt-4o-mini-2024-07-18:acme::abc123"))
        .as("fine-tunes have their own rates")
        .isEmpty();
    assertThat(prices.find("")).isEmpty();
  }

  // ---------------------------------------------------------------- operator files

  @Test
  void operatorEntriesReplaceWholeEntriesAddModelsAndCombineTheVersions(@TempDir Path dir)
      throws IOException {
    Path file = write(dir, """
        version: "acme-7"
        models:
          claude-sonnet-4-5:
            input: "2.70"
            output: "13.50"
            source: "ACME agreement, schedule B"
            as_of: "2026-10-01"
          mistral-large-2411:
            input: "2"
            output: "6"
            source: "https://mistral.ai/pricing"
            as_of: "2026-11-01"
            note: "self-hosted behind an OpenAI-compatible API"
        """);

    PriceCatalog merged = PriceCatalog.builtIn().overriddenBy(PriceCatalog.load(file));

    assertThat(merged.version()).isEqualTo("2026-11-22.2+acme-7");
    ModelPrice sonnet = merged.find("claude-sonnet-4-5-20250929").orElseThrow();
    assertThat(sonnet.input()).isEqualByComparingTo("2.70");
    assertThat(sonnet.cacheWrite()).as("replaced whole, not merged").isNull();
    assertThat(sonnet.longContext()).isNull();
    assertThat(merged.find("mistral-large-2411").orElseThrow().note()).contains("self-hosted");
    assertThat(merged.find("gpt-4o").orElseThrow().input())
        .as("untouched")
        .isEqualByComparingTo("2.50");
    assertThat(PriceCatalog.builtIn().find("claude-sonnet-4-5").orElseThrow().input())
        .as("the built-in catalog is unchanged")
        .isEqualByComparingTo("3");
  }

  @Test
  void pricesAreReadExactlyFromTheirTextQuotedOrNot() {
    PriceCatalog c = PriceCatalog.parse("""
        version: "t"
        models:
          m:
            input: 123456789012345678.123456
            output: "0.000001"
            cached_input: 7
            source: "s"
            as_of: 2026-11-22
        """, "t.yaml");

    ModelPrice m = c.find("m").orElseThrow();
    assertThat(m.input())
        .as("24 significant digits: no double could hold them")
        .isEqualTo(new BigDecimal("123456789012345678.123456"));
    assertThat(m.output()).isEqualTo(new BigDecimal("0.000001"));
    assertThat(m.cachedInput()).isEqualByComparingTo("7");
    assertThat(m.asOf()).isEqualTo(LocalDate.of(2026, 11, 22));
    assertThat(m.note()).isEmpty();
  }

  // ---------------------------------------------------------------- malformed files

  @Test
  void anUnknownFieldIsAnErrorNamingIt() {
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2.50", outptu: "10", source: "s", as_of: "2026-11-22" }
        """,
        "t.yaml: models.gpt-4o: unknown field 'outptu' (expected one of [input, cached_input, cache_write, cache_write_1h, "
            + "output, reasoning, long_context, source, as_of, note])");
    assertRejected("""
        version: "t"
        currency: EUR
        models: {}
        """, "t.yaml: unknown field 'currency' (expected one of [version, models])");
    assertRejected("""
        version: "t"
        models:
          m: { input: "1", source: "s", as_of: "2026-11-22", long_context: { above: 5, input: "2" } }
        """, "t.yaml: models.m.long_context: unknown field 'above'");
  }

  @Test
  void aBadNumberIsAnErrorNamingTheModelAndTheField() {
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2,50", source: "s", as_of: "2026-11-22" }
        """,
        "t.yaml: models.gpt-4o.input: '2,50' (expected: a decimal number >= 0 of US dollars per million tokens");
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2.50", output: "-10", source: "s", as_of: "2026-11-22" }
        """, "t.yaml: models.gpt-4o.output: -10 (expected: >= 0 US dollars per million tokens)");
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2.50", cached_input: "0.0000001", source: "s", as_of: "2026-11-22" }
        """, "t.yaml: models.gpt-4o.cached_input: 0.0000001 (expected: at most 6 decimal places)");
    assertRejected("""
        version: "t"
        models:
          gpt-4o: { input: true, source: "s", as_of: "2026-11-22" }
        """, "t.yaml: models.gpt-4o.input: true (expected: a decimal number");
    assertRejected(
        """
        version: "t"
        models:
          claude: { input: "3", source: "s", as_of: "2026-11-22", long_context: { above_prompt_tokens: 0, input: "6" } }
        """,
        "t.yaml: models.claude.long_context.above_prompt_tokens: 0 (expected: a whole number of prompt tokens > 0");
  }

  @Test
  void missingRequiredValuesAreErrorsSayingWhatIsExpected() {
    assertRejected(
        """
        models: {}
        """, "t.yaml: version: missing (expected: a non-empty string such as \"2026-11-22.1\")");
    assertRejected("""
        version: "t"
        """, "t.yaml: models: missing (expected: a mapping of model name to prices)");
    assertRejected("""
        version: "t"
        models:
          gpt-4o: { output: "10", source: "s", as_of: "2026-11-22" }
        """, "t.yaml: models.gpt-4o.input: missing");
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2.50", as_of: "2026-11-22" }
        """, "t.yaml: models.gpt-4o.source: missing (expected: where the prices come from");
    assertRejected(
        """
        version: "t"
        models:
          gpt-4o: { input: "2.50", source: "s", as_of: "22.11.2026" }
        """,
        "t.yaml: models.gpt-4o.as_of: '22.11.2026' (expected: the date the prices were read, yyyy-MM-dd)");
  }

  @Test
  void aModelListedTwiceOrAFileThatIsNotYamlIsRejected() {
    assertRejected("""
        version: "t"
        models:
          gpt-4o: { input: "2.50", source: "s", as_of: "2026-11-22" }
          gpt-4o: { input: "2.00", source: "s", as_of: "2026-11-22" }
        """, "t.yaml: not valid YAML: Duplicate field 'gpt-4o'");
    assertRejected("version: [unclosed", "t.yaml: not valid YAML");
    assertRejected("- a\n- b\n", "t.yaml: expected a mapping with keys [version, models]");
  }

  @Test
  void loadNamesTheFileInItsErrors(@TempDir Path dir) throws IOException {
    Path file = write(
        dir,
        "version: \"t\"\nmodels:\n  m: { input: \"x\", source: \"s\", as_of: \"2026-11-22\" }\n");

    assertThatThrownBy(() -> PriceCatalog.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(file + ": models.m.input: 'x'");
  }

  private static void assertRejected(String document, String messageStart) {
    assertThatThrownBy(() -> PriceCatalog.parse(document, "t.yaml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(messageStart);
  }

  private static Path write(Path dir, String content) throws IOException {
    Path file = dir.resolve("prices.yaml");
    Files.writeString(file, content);
    return file;
  }
}
