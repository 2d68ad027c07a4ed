package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.extproc.api.LlmApi;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Request shapes beyond the reference table: budgets, odd shapes, lower bounds. */
class PromptCounterTest {

  private static final ModelCatalog CATALOG = ModelCatalog.builtIn();

  @Test
  void maxCompletionTokensWinsOverTheDeprecatedMaxTokensInEitherOrder() {
    PromptCount a = count(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o",
        "{\"max_tokens\":10,\"max_completion_tokens\":20,\"messages\":[]}");
    PromptCount b = count(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o",
        "{\"max_completion_tokens\":20,\"max_tokens\":10,\"messages\":[]}");

    assertThat(a.maxOutputTokens()).isEqualTo(20);
    assertThat(a.maxOutputField()).isEqualTo("max_completion_tokens");
    assertThat(b.maxOutputTokens()).isEqualTo(20);
    assertThat(b.maxOutputField()).isEqualTo("max_completion_tokens");
  }

  @Test
  void legacyCompletionsDefaultToSixteenOutputTokens() {
    PromptCount c = count(
        LlmApi.OPENAI_COMPLETIONS, "gpt-3.5-turbo-instruct", "{\"prompt\":\"Once upon a time\"}");

    assertThat(c.maxOutputTokens()).isEqualTo(16);
    assertThat(c.tokens()).isEqualTo(Tokenizer.CL100K_BASE.count("Once upon a time"));
    assertThat(c.exact()).isTrue();
  }

  @Test
  void responsesAndAnthropicCarryTheirOutputBudgetFields() {
    assertThat(
            count(LlmApi.OPENAI_RESPONSES, "gpt-4.1", "{\"input\":\"hi\",\"max_output_tokens\":77}")
                .maxOutputField())
        .isEqualTo("max_output_tokens");
    PromptCount claude = count(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-haiku-4-5",
        "{\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertThat(claude.maxOutputTokens()).isEqualTo(64);
    assertThat(claude.tokenizer()).isEqualTo(Tokenizer.ESTIMATE);
    assertThat(claude.exact()).isFalse();
  }

  @Test
  void unexpectedShapesNeverFailAndMakeTheCountALowerBound() {
    String[] bodies = {
      "{\"messages\":\"not a list\"}",
      "{\"messages\":[42,{\"role\":\"user\",\"content\":{\"odd\":true}}]}",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"web_search\"}]}",
      "[1,2]",
    };
    for (String body : bodies) {
      PromptCount c = count(LlmApi.OPENAI_CHAT_COMPLETIONS, "gpt-4o", body);
      assertThat(c.exact()).as(body).isFalse();
      assertThat(c.tokens()).as(body).isNotNegative();
    }
  }

  @Test
  void nonNumericOutputBudgetIsIgnoredForTheProviderToRefuse() {
    PromptCount c = count(
        LlmApi.OPENAI_CHAT_COMPLETIONS, "gpt-4o", "{\"messages\":[],\"max_tokens\":\"many\"}");

    assertThat(c.maxOutputTokens()).isEqualTo(-1);
    assertThat(c.exact()).isTrue();
  }

  @Test
  void hugeOutputBudgetIsKeptAsTooLargeRatherThanOverflowing() {
    PromptCount c = count(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "gpt-4o",
        "{\"max_tokens\":99999999999999999999999,\"messages\":[]}");

    assertThat(c.maxOutputTokens()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void embeddingsRememberTheLargestSingleInput() {
    PromptCount c = count(
        LlmApi.OPENAI_EMBEDDINGS,
        "text-embedding-3-small",
        "{\"input\":[\"a\",\"hello world, hello world\",[1,2,3,4,5,6,7,8,9]]}");

    assertThat(c.largestInputTokens()).isEqualTo(9);
    assertThat(c.tokens())
        .isEqualTo(1 + Tokenizer.CL100K_BASE.count("hello world, hello world") + 9);
  }

  @Test
  void unmappedOpenAiStyleModelsAreCountedWithO200kButNotClaimedExact() {
    PromptCount c = count(
        LlmApi.OPENAI_CHAT_COMPLETIONS,
        "mistral-large",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    assertThat(c.tokenizer()).isEqualTo(Tokenizer.O200K_BASE);
    assertThat(c.exact()).isFalse();
    assertThat(c.tokens()).isEqualTo(3 + 1 + 1 + 3);
  }

  @Test
  void claudeToolUseAddsTheDocumentedSystemPromptByToolChoice() {
    String tools = "\"tools\":[{\"name\":\"t\",\"input_schema\":{\"type\":\"object\"}}]";
    PromptCount auto =
        count(LlmApi.ANTHROPIC_MESSAGES, "claude-sonnet-4-5", "{" + tools + ",\"messages\":[]}");
    PromptCount any = count(
        LlmApi.ANTHROPIC_MESSAGES,
        "claude-sonnet-4-5",
        "{" + tools + ",\"tool_choice\":{\"type\":\"any\"},\"messages\":[]}");

    int schema = Tokenizer.estimate("t".length() + "{\"type\":\"object\"}".length());
    assertThat(auto.tokens()).isEqualTo(schema + 346);
    assertThat(any.tokens()).isEqualTo(schema + 313);
  }

  private static PromptCount count(LlmApi api, String model, String body) {
    return PromptCounter.count(
        api, body.getBytes(StandardCharsets.UTF_8), CATALOG.resolve(model, api.family()));
  }
}
