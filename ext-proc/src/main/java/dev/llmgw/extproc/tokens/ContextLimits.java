package dev.llmgw.extproc.tokens;

import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import org.jspecify.annotations.Nullable;

/**
 * Refuses requests that cannot fit the model: output budget above the model's maximum output, or
 * prompt plus output budget above the context window. Only listed models are checked, and only
 * with numbers that are certain: exact counts and lower bounds as they are, estimates after taking
 * off the catalog's error margin. A refusal must never be wrong; a request that slips through is
 * refused by the provider instead.
 */
final class ContextLimits {

  static final String CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded";
  static final String MAX_TOKENS_TOO_LARGE = "max_tokens_too_large";

  private ContextLimits() {}

  /** The error to answer with, or null when the request fits (or nothing certain is known). */
  static @Nullable ApiError check(
      LlmApi api, ModelSpec spec, PromptCount count, double estimateMargin) {
    if (!spec.listed()) {
      return null;
    }
    String how = count.tokenizer().isEstimate()
        ? "estimated"
        : "counted by the gateway with " + count.tokenizer().tag();
    if (api == LlmApi.OPENAI_EMBEDDINGS) {
      int largest = certain(count.largestInputTokens(), count.tokenizer(), estimateMargin);
      if (spec.contextWindow() > 0 && largest > spec.contextWindow()) {
        return new ApiError(
            400,
            ApiError.Kind.INVALID_REQUEST,
            "input",
            CONTEXT_LENGTH_EXCEEDED,
            spec.name() + " accepts at most " + spec.contextWindow()
                + " tokens per input, but one input has " + largest + " tokens (" + how
                + "). Split or shorten that input.");
      }
      return null;
    }
    int output = count.maxOutputTokens();
    String field = count.maxOutputField();
    if (output > 0 && spec.maxOutput() > 0 && output > spec.maxOutput()) {
      return new ApiError(
          400,
          ApiError.Kind.INVALID_REQUEST,
          field,
          MAX_TOKENS_TOO_LARGE,
          field + " is " + output + ", but " + spec.name() + " produces at most " + spec.maxOutput()
              + " output tokens (expected: " + field + " <= " + spec.maxOutput() + ")");
    }
    if (spec.contextWindow() == 0) {
      return null;
    }
    int prompt = certain(count.tokens(), count.tokenizer(), estimateMargin);
    long needed = (long) prompt + Math.max(0, output);
    if (needed <= spec.contextWindow()) {
      return null;
    }
    String promptPart = count.tokenizer().isEstimate()
        ? "at least " + prompt + " prompt tokens (estimated at " + count.tokens()
            + "; the model's tokenizer is not public, so " + Math.round(estimateMargin * 100)
            + "% is taken off before refusing)"
        : (count.exact() ? "" : "at least ") + prompt + " prompt tokens (" + how + ")";
    String outputPart = output > 0 ? " + " + output + " " + field : "";
    String reduce = output > 0 ? "Reduce the prompt or " + field + "." : "Reduce the prompt.";
    return new ApiError(
        400,
        ApiError.Kind.INVALID_REQUEST,
        promptField(api),
        CONTEXT_LENGTH_EXCEEDED,
        spec.name() + "'s maximum context length is " + spec.contextWindow()
            + " tokens, but this request needs " + needed + ": " + promptPart + outputPart + ". "
            + reduce);
  }

  private static String promptField(LlmApi api) {
    return switch (api) {
      case OPENAI_CHAT_COMPLETIONS, ANTHROPIC_MESSAGES -> "messages";
      case OPENAI_COMPLETIONS -> "prompt";
      case OPENAI_RESPONSES, OPENAI_EMBEDDINGS -> "input";
    };
  }

  /** A number a refusal may rely on: estimates lose their error margin. */
  private static int certain(int tokens, Tokenizer tokenizer, double estimateMargin) {
    return tokenizer.isEstimate() ? (int) Math.floor(tokens * (1 - estimateMargin)) : tokens;
  }
}
