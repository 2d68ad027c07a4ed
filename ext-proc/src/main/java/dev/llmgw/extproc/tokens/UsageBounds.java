package dev.llmgw.extproc.tokens;

import dev.llmgw.extproc.api.LlmApi;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a provider's usage report is believable for the exchange it came with. The
 * gateway bills the provider's figures, so a report claiming more than the exchange could have
 * used (an upstream that is broken, compromised or impersonated) would otherwise charge a tenant
 * for it and lock them out of their budget. A report that fails any rule is not used at all: the
 * exchange is billed on the gateway's own count instead and labelled so.
 *
 * <p>The rules, in the order they are checked (unreported figures are skipped):
 * <ol>
 *   <li>{@link Reason#ABOVE_CEILING}: prompt or completion above {@value #CEILING} tokens, more
 *       than any model served through the gateway takes or produces in one exchange;
 *   <li>{@link Reason#PROMPT_ABOVE_CONTEXT_WINDOW}: prompt above the model's context window (listed
 *       models, not embeddings, whose window is per input);
 *   <li>{@link Reason#PROMPT_ABOVE_COUNT}: the gateway's prompt count is exact and the prompt is
 *       above twice that count plus {@value #EXACT_COUNT_SLACK} tokens;
 *   <li>{@link Reason#COMPLETION_ABOVE_OUTPUT_LIMIT}: completion above the number of answers asked
 *       for ({@code n}, {@code best_of}, else 1) times the smallest of the request's output budget,
 *       the model's maximum output and its context window (the last two for listed models); for
 *       embeddings, any completion above 0;
 *   <li>{@link Reason#CACHE_ABOVE_PROMPT}: cache reads plus cache writes above the prompt, or
 *       one-hour cache writes above all cache writes;
 *   <li>{@link Reason#REASONING_ABOVE_COMPLETION}: reasoning tokens above the completion;
 *   <li>{@link Reason#TOTAL_NOT_SUM_OF_PARTS}: a reported total below prompt + completion, or above
 *       prompt + completion + reasoning (some compatible servers count reasoning outside the
 *       completion).
 * </ol>
 * Reports below the gateway's count are not questioned: truncation and server-side state make them
 * legitimate, and they never raise a bill.
 */
final class UsageBounds {

  /** Most tokens one exchange may report as prompt or as completion: the largest published context window (10M). */
  static final long CEILING = 10_000_000L;
  /** Added to twice an exact prompt count before a larger reported prompt is refused. */
  static final long EXACT_COUNT_SLACK = 1024;

  /** Why a usage report was not believed; the tag is the metric and metadata value. */
  enum Reason {
    ABOVE_CEILING,
    PROMPT_ABOVE_CONTEXT_WINDOW,
    PROMPT_ABOVE_COUNT,
    COMPLETION_ABOVE_OUTPUT_LIMIT,
    CACHE_ABOVE_PROMPT,
    REASONING_ABOVE_COMPLETION,
    TOTAL_NOT_SUM_OF_PARTS;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final long contextWindow;
  private final long promptByCount;
  private final long completionLimit;

  private UsageBounds(long contextWindow, long promptByCount, long completionLimit) {
    this.contextWindow = contextWindow;
    this.promptByCount = promptByCount;
    this.completionLimit = completionLimit;
  }

  /** The bounds of an exchange of {@code api} with the prompt {@code count}, sent to {@code spec}. */
  static UsageBounds of(LlmApi api, PromptCount count, ModelSpec spec) {
    boolean embeddings = api == LlmApi.OPENAI_EMBEDDINGS;
    long window = spec.listed() && !embeddings && spec.contextWindow() > 0
        ? spec.contextWindow()
        : Long.MAX_VALUE;
    long byCount = count.exact() ? 2L * count.tokens() + EXACT_COUNT_SLACK : Long.MAX_VALUE;
    long completion;
    if (embeddings) {
      completion = 0;
    } else {
      long perAnswer = Long.MAX_VALUE;
      if (count.maxOutputTokens() > 0) {
        perAnswer = count.maxOutputTokens();
      }
      if (spec.listed() && spec.maxOutput() > 0) {
        perAnswer = Math.min(perAnswer, spec.maxOutput());
      }
      if (spec.listed() && spec.contextWindow() > 0) {
        perAnswer = Math.min(perAnswer, spec.contextWindow());
      }
      completion = perAnswer == Long.MAX_VALUE
          ? Long.MAX_VALUE
          : perAnswer * count.outputChoices(); // both below 2^31: no overflow
    }
    return new UsageBounds(window, byCount, completion);
  }

  /**
   * The most completion tokens the exchange could have had ({@link Long#MAX_VALUE} when nothing
   * bounds it but the ceiling): the cap of an estimate the gateway makes from bytes.
   */
  long completionLimit() {
    return Math.min(completionLimit, CEILING);
  }

  /** The first rule {@code usage} breaks, or null when it is believable. */
  @Nullable
  Reason check(ProviderUsage usage) {
    long prompt = usage.promptTokens();
    long completion = usage.completionTokens();
    if (prompt > CEILING || completion > CEILING) {
      return Reason.ABOVE_CEILING;
    }
    if (prompt > contextWindow) {
      return Reason.PROMPT_ABOVE_CONTEXT_WINDOW;
    }
    if (prompt > promptByCount) {
      return Reason.PROMPT_ABOVE_COUNT;
    }
    if (completion > completionLimit) {
      return Reason.COMPLETION_ABOVE_OUTPUT_LIMIT;
    }
    long cached = Math.max(0, usage.cachedTokens());
    long written = Math.max(0, usage.cacheCreationTokens());
    if (prompt >= 0
        && (cached > prompt
            || written > prompt - cached
            || usage.cacheCreation1hTokens() > written)) {
      return Reason.CACHE_ABOVE_PROMPT;
    }
    long reasoning = Math.max(0, usage.reasoningTokens());
    if (completion >= 0 && reasoning > completion) {
      return Reason.REASONING_ABOVE_COMPLETION;
    }
    long total = usage.totalTokens();
    if (total >= 0
        && prompt >= 0
        && completion >= 0
        && (total < prompt + completion || total > prompt + completion + reasoning)) {
      return Reason.TOTAL_NOT_SUM_OF_PARTS;
    }
    return null;
  }
}
