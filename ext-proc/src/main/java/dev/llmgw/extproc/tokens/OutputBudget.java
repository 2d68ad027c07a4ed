package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The output budget a request asks for; the first "preferred" field wins over "fallback" ones. Also
 * how many answers it asks for, each of which may use the whole budget: {@code n} or {@code best_of}
 * (the larger) per prompt, times the prompts of a legacy completions batch.
 */
final class OutputBudget {
  int tokens = -1;
  private int choices = 1;
  private int prompts = 1;

  @Nullable
  String field;

  boolean preferredSeen;

  void preferred(JsonParser p, String name) throws IOException {
    int v = read(p);
    if (v >= 0) {
      tokens = v;
      field = name;
      preferredSeen = true;
    }
  }

  void fallback(JsonParser p, String name) throws IOException {
    int v = read(p);
    if (v >= 0 && !preferredSeen) {
      tokens = v;
      field = name;
    }
  }

  void choices(JsonParser p) throws IOException {
    choices = Math.max(choices, read(p));
  }

  void prompts(int n) {
    prompts = Math.max(1, n);
  }

  private static int read(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      p.skipChildren();
      return -1;
    }
    try {
      long v = p.getLongValue();
      return v < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, v);
    } catch (JsonProcessingException e) {
      return Integer.MAX_VALUE; // larger than a long: certainly too large
    }
  }

  PromptCount count(Tally t, int largest) {
    int answers = (int) Math.min(Integer.MAX_VALUE, (long) choices * prompts);
    return new PromptCount(t.total(), t.tokenizer, t.exact(), tokens, field, largest, answers);
  }
}
