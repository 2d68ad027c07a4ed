package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

/**
 * What the gateway knows about one model: how to count its tokens and how much fits.
 *
 * @param name the catalog's name for the model (snapshot suffixes removed), or the name as sent when
 *     the model is not listed
 * @param tokenizer how its text is counted
 * @param tokenizerCertain whether {@code tokenizer} is the model's own (listed, or mapped by tiktoken's
 *     rules); false when an unmapped OpenAI-style model is counted with o200k_base as the best guess
 * @param contextWindow prompt plus output limit in tokens (per input for embeddings); 0 when unknown
 * @param maxOutput the most output tokens one request may ask for; 0 when unknown or not applicable
 * @param reasoning whether the model spends hidden reasoning tokens, which a stream never shows
 * @param toolPromptAuto tokens the provider adds when tools are offered with tool_choice auto/none
 *     (Anthropic's tool-use system prompt); 0 when unknown or none
 * @param toolPromptAny the same with tool_choice any/tool
 * @param listed whether the model is in the catalog (only listed models are refused on limits)
 */
public record ModelSpec(
    String name,
    Tokenizer tokenizer,
    boolean tokenizerCertain,
    int contextWindow,
    int maxOutput,
    boolean reasoning,
    int toolPromptAuto,
    int toolPromptAny,
    boolean listed) {

  public ModelSpec {
    requireNonNull(name, "name");
    requireNonNull(tokenizer, "tokenizer");
    if (contextWindow < 0) {
      throw new IllegalArgumentException(
          "contextWindow: " + contextWindow + " (expected: >= 0, 0 for unknown)");
    }
    if (maxOutput < 0) {
      throw new IllegalArgumentException(
          "maxOutput: " + maxOutput + " (expected: >= 0, 0 for unknown)");
    }
    if (toolPromptAuto < 0 || toolPromptAny < 0) {
      throw new IllegalArgumentException(
          "toolPrompt: " + toolPromptAuto + "/" + toolPromptAny + " (expected: >= 0)");
    }
  }

  /** A model the catalog does not list: counted with {@code tokenizer}, never refused. */
  static ModelSpec unlisted(String name, Tokenizer tokenizer, boolean certain) {
    return new ModelSpec(name, tokenizer, certain, 0, 0, false, 0, 0, false);
  }
}
