package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.extproc.api.LlmApi;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCatalogTest {

  private final ModelCatalog catalog = ModelCatalog.builtIn();

  @Test
  void encodingsFollowTiktokensModelMapping() {
    assertThat(tokenizer("gpt-4o")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("gpt-4.1-nano")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("o1")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("o3-mini-2025-01-31")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("o4-mini")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("gpt-5")).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("gpt-5.2-pro"))
        .as("unlisted, mapped by the gpt-5 prefix")
        .isEqualTo(Tokenizer.O200K_BASE);
    assertThat(tokenizer("gpt-4")).isEqualTo(Tokenizer.CL100K_BASE);
    assertThat(tokenizer("gpt-4-turbo-2024-04-09")).isEqualTo(Tokenizer.CL100K_BASE);
    assertThat(tokenizer("gpt-3.5-turbo-0125")).isEqualTo(Tokenizer.CL100K_BASE);
    assertThat(tokenizer("text-embedding-3-large")).isEqualTo(Tokenizer.CL100K_BASE);
    assertThat(tokenizer("text-embedding-ada-002")).isEqualTo(Tokenizer.CL100K_BASE);
  }

  @Test
  void snapshotsAliasesAndFineTunesResolveToTheirListedModel() {
    assertThat(catalog.resolve("gpt-4o-2024-11-20", LlmApi.Family.OPENAI).name())
        .isEqualTo("gpt-4o");
    assertThat(catalog.resolve("gpt-4o-2024-05-13", LlmApi.Family.OPENAI).maxOutput())
        .as("own entry")
        .isEqualTo(4096);
    assertThat(catalog.resolve("gpt-4o-mini-2024-07-18", LlmApi.Family.OPENAI).name())
        .isEqualTo("gpt-4o-mini");
    assertThat(catalog.resolve("gpt-4-0613", LlmApi.Family.OPENAI).contextWindow())
        .isEqualTo(8192);
    assertThat(catalog
            .resolve("ft:gpt-4o-mini-2024-07-18:acme::9abc", LlmApi.Family.OPENAI)
            .name())
        .isEqualTo("gpt-4o-mini");
    assertThat(catalog
            .resolve("claude-sonnet-4-5-20250929", LlmApi.Family.ANTHROPIC)
            .name())
        .isEqualTo("claude-sonnet-4-5");
    assertThat(
            catalog.resolve("claude-3-5-haiku-latest", LlmApi.Family.ANTHROPIC).maxOutput())
        .isEqualTo(8192);
    assertThat(
            catalog.resolve("claude-sonnet-4-20250514", LlmApi.Family.ANTHROPIC).name())
        .isEqualTo("claude-sonnet-4");
  }

  @Test
  void unknownModelsAreCountedButNeverGivenLimits() {
    ModelSpec newClaude = catalog.resolve("claude-opus-5", LlmApi.Family.ANTHROPIC);
    assertThat(newClaude.listed()).isFalse();
    assertThat(newClaude.tokenizer()).isEqualTo(Tokenizer.ESTIMATE);
    assertThat(newClaude.contextWindow()).isZero();

    ModelSpec llama = catalog.resolve("llama-3.1-70b-instruct", LlmApi.Family.OPENAI);
    assertThat(llama.listed()).isFalse();
    assertThat(llama.tokenizer()).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(llama.tokenizerCertain()).as("a guess, so never exact").isFalse();

    ModelSpec gpt6 = catalog.resolve("gpt-6-luna", LlmApi.Family.OPENAI);
    assertThat(gpt6.tokenizerCertain()).isFalse();
  }

  @Test
  void claudeModelsAreEstimatesWithDocumentedToolPromptTokens() {
    ModelSpec sonnet = catalog.resolve("claude-sonnet-4-5", LlmApi.Family.ANTHROPIC);
    assertThat(sonnet.tokenizer()).isEqualTo(Tokenizer.ESTIMATE);
    assertThat(sonnet.toolPromptAuto()).isEqualTo(346);
    assertThat(sonnet.toolPromptAny()).isEqualTo(313);
    assertThat(sonnet.contextWindow())
        .as("the 1M beta is the largest window it can get")
        .isEqualTo(1_000_000);
  }

  @Test
  void everyListedModelHasATokenizerAndConsistentLimits() {
    assertThat(catalog.models()).hasSizeGreaterThan(40);
    assertThat(catalog.asOf()).matches("\\d{4}-\\d{2}(-\\d{2})?");
    catalog.models().values().forEach(m -> {
      assertThat(m.listed()).isTrue();
      assertThat(m.contextWindow()).as(m.name()).isPositive();
      assertThat(m.maxOutput()).as(m.name()).isLessThanOrEqualTo(m.contextWindow());
      boolean claude = m.name().startsWith("claude");
      assertThat(m.tokenizer().isEstimate()).as(m.name()).isEqualTo(claude);
    });
  }

  @Test
  void operatorFileOverridesAndExtendsTheBuiltInCatalog(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("models.yaml");
    Files.writeString(file, """
        estimate: { reject_margin: 0.4 }
        models:
          gpt-4o: { context_window: 64000, max_output: 4096 }
          acme-llm: { tokenizer: cl100k_base, context_window: 32768, max_output: 2048 }
        """);

    ModelCatalog merged = ModelCatalog.load(file);

    assertThat(merged.resolve("gpt-4o-2024-08-06", LlmApi.Family.OPENAI).contextWindow())
        .isEqualTo(64000);
    assertThat(merged.resolve("acme-llm", LlmApi.Family.OPENAI).tokenizer())
        .isEqualTo(Tokenizer.CL100K_BASE);
    assertThat(merged.resolve("gpt-4.1", LlmApi.Family.OPENAI).contextWindow())
        .as("kept")
        .isEqualTo(1047576);
    assertThat(merged.estimateRejectMargin()).isEqualTo(0.4);
  }

  @Test
  void invalidCatalogsAreRejectedNamingTheField() {
    assertThatThrownBy(() -> ModelCatalog.parse(
            "models: { m: { tokenizer: gpt2, context_window: 1, max_output: 1 } }", "f.yaml", null))
        .hasMessageContaining("f.yaml: models.m.tokenizer")
        .hasMessageContaining("expected: o200k_base, cl100k_base or estimate");
    assertThatThrownBy(() -> ModelCatalog.parse(
            "models: { m: { tokenizer: estimate, context_window: 100, max_output: 200 } }",
            "f.yaml",
            null))
        .hasMessageContaining("max_output 200 exceeds context_window 100");
    assertThatThrownBy(() -> ModelCatalog.parse(
            "models: { m: { tokenizer: estimate, max_output: 2 } }", "f.yaml", null))
        .hasMessageContaining("models.m.context_window: missing");
    assertThatThrownBy(() -> ModelCatalog.parse(
            "models: { m: { tokenizer: estimate, context_window: 9, max_output: 2, colour: red } }",
            "f.yaml",
            null))
        .hasMessageContaining("unknown key 'colour'");
    assertThatThrownBy(() -> ModelCatalog.parse(
            "models: { mystery: { context_window: 9, max_output: 2 } }", "f.yaml", null))
        .hasMessageContaining("models.mystery: no tokenizer given");
    assertThatThrownBy(() -> ModelCatalog.parse("estimate: { reject_margin: 1.5 }", "f.yaml", null))
        .hasMessageContaining("estimate.reject_margin");
  }

  private Tokenizer tokenizer(String model) {
    return catalog.resolve(model, LlmApi.Family.OPENAI).tokenizer();
  }
}
