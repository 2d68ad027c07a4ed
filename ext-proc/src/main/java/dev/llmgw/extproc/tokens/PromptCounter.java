package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.extproc.api.LlmApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jspecify.annotations.Nullable;

/**
 * Counts the prompt of one request body, per API shape, in one streaming pass: message texts go
 * from the parser straight to the tokenizer; only tool definitions, tool calls and tool choice
 * (small, and needed as a whole to render) are read as trees. Chat and Responses prompts follow
 * {@link OpenAiChatPrompt}, Claude prompts {@link AnthropicPrompt}; legacy completions and
 * embeddings are the tokens of their inputs, with no overhead.
 */
final class PromptCounter {

  /** The legacy completions API's default {@code max_tokens}. */
  static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

  private static final ObjectMapper JSON = new ObjectMapper();

  private PromptCounter() {}

  /**
   * Counts {@code body} (a JSON object, as validated on the request path) for a call of {@code api}
   * to the model {@code spec}. Never throws for unexpected shapes: what cannot be read is left out
   * and the count marked inexact.
   */
  static PromptCount count(LlmApi api, byte[] body, ModelSpec spec) {
    try {
      return count(api, JSON.createParser(body), spec);
    } catch (IOException e) {
      throw new UncheckedIOException("a parser over a byte array cannot fail to open", e);
    }
  }

  /** Counts the request {@code p} reads (from its start), as {@link #count(LlmApi, byte[], ModelSpec)}. */
  static PromptCount count(LlmApi api, JsonParser parser, ModelSpec spec) {
    boolean exactRules = spec.tokenizerCertain()
        && api != LlmApi.OPENAI_RESPONSES
        && api != LlmApi.ANTHROPIC_MESSAGES;
    Tally tally = new Tally(spec.tokenizer(), exactRules);
    try (JsonParser p = parser) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        tally.inexact();
        return new PromptCount(0, spec.tokenizer(), false, -1, null, -1);
      }
      return switch (api) {
        case OPENAI_CHAT_COMPLETIONS -> OpenAiChatPrompt.chat(p, tally);
        case OPENAI_COMPLETIONS -> completions(p, tally);
        case OPENAI_EMBEDDINGS -> embeddings(p, tally);
        case OPENAI_RESPONSES -> OpenAiChatPrompt.responses(p, tally);
        case ANTHROPIC_MESSAGES -> AnthropicPrompt.count(p, tally, spec);
      };
    } catch (IOException e) {
      // The request path validated the body already; a failure here leaves the count partial.
      tally.inexact();
      return new PromptCount(tally.total(), spec.tokenizer(), false, -1, null, -1);
    }
  }

  private static PromptCount completions(JsonParser p, Tally t) throws IOException {
    OutputBudget output = new OutputBudget();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "prompt" -> output.prompts(inputs(p, t, null));
        case "suffix" -> {
          if (p.currentToken() == JsonToken.VALUE_STRING) {
            t.text(p.getText());
            t.inexact(); // where the suffix goes in the prompt is not published
          } else {
            p.skipChildren();
          }
        }
        case "max_tokens" -> output.preferred(p, field);
        case "n", "best_of" -> output.choices(p);
        default -> p.skipChildren();
      }
    }
    if (output.tokens < 0) {
      output.tokens = COMPLETIONS_DEFAULT_MAX_TOKENS;
      output.field = "max_tokens";
    }
    return output.count(t, -1);
  }

  private static PromptCount embeddings(JsonParser p, Tally t) throws IOException {
    int[] largest = {0};
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      if (field.equals("input")) {
        inputs(p, t, largest);
      } else {
        p.skipChildren();
      }
    }
    return new PromptCount(t.total(), t.tokenizer, t.exact(), -1, null, largest[0]);
  }

  /**
   * A prompt or embeddings input: a string, an array of strings, an array of token ids (one input
   * already tokenized), or an array of such arrays. Token ids count one each. Returns how many
   * inputs there are.
   */
  private static int inputs(JsonParser p, Tally t, int @Nullable [] largest) throws IOException {
    JsonToken value = p.currentToken();
    if (value == JsonToken.VALUE_STRING) {
      note(largest, t.text(p.getText()), t, p.getText());
      return 1;
    }
    if (value != JsonToken.START_ARRAY) {
      skip(p, t);
      return 1;
    }
    int inputs = 0;
    int ids = 0;
    JsonToken item;
    while ((item = p.nextToken()) != JsonToken.END_ARRAY) {
      if (item == JsonToken.VALUE_STRING) {
        inputs++;
        note(largest, t.text(p.getText()), t, p.getText());
      } else if (item == JsonToken.VALUE_NUMBER_INT) {
        ids++;
      } else if (item == JsonToken.START_ARRAY) {
        inputs++;
        int n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          n++;
          p.skipChildren();
        }
        t.fixed(n);
        note(largest, n, t, null);
      } else {
        skip(p, t);
      }
    }
    if (ids > 0) {
      inputs++;
      t.fixed(ids);
      note(largest, ids, t, null);
    }
    return Math.max(1, inputs);
  }

  private static void note(int @Nullable [] largest, int tokens, Tally t, @Nullable String text) {
    if (largest == null) {
      return;
    }
    int n = t.tokenizer.isEstimate() && text != null ? t.measure(text) : tokens;
    largest[0] = Math.max(largest[0], n);
  }

  /** Skips a value of a shape no rule covers, which makes the count inexact. */
  static void skip(JsonParser p, Tally t) throws IOException {
    t.inexact();
    p.skipChildren();
  }
}
