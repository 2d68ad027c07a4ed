package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.policy.ModelTarget;
import dev.llmgw.extproc.server.Answer;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.RejectException;
import dev.llmgw.extproc.server.StreamContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token counting for one exchange: counts the prompt and enforces the context window on the
 * request path, reads usage (or counts the streamed text) on the response path, and reconciles
 * the two when the exchange ends. Runs on the stream's thread; holds only a few numbers and the
 * completion tally's bounded buffers.
 */
public final class TokenObserver implements ExchangeListener.Observer {

  private static final Logger log = LoggerFactory.getLogger(TokenObserver.class);

  private final TokenCounting owner;
  private final StreamContext context;
  private final LlmApi api;
  private ModelSpec spec;
  private String modelTag;
  private @Nullable PromptCount prompt;
  private @Nullable UsageReader reader;
  private boolean rejected;
  private boolean reading = true;
  private @Nullable TokenReport finished;

  TokenObserver(TokenCounting owner, StreamContext context) {
    this.owner = owner;
    this.context = context;
    // Observers are opened only for LLM exchanges, after the request's model was resolved.
    this.api = requireNonNull(context.api(), "api");
    resolveModel();
  }

  @Override
  public @Nullable Answer onRequest(LlmRequest request) {
    PromptCount prompt;
    try {
      prompt = PromptCounter.count(api, request.traverse(), spec);
      this.prompt = prompt;
    } catch (RuntimeException e) {
      // A counting bug must not take traffic down: the exchange goes on uncounted and unchecked.
      owner.metrics().countFailure(modelTag);
      log.warn(
          "could not count the prompt of a {} request for {}; forwarding it unchecked",
          api,
          modelTag,
          e);
      return null;
    }
    owner
        .metrics()
        .promptCounted(modelTag, prompt.tokenizer().tag(), prompt.exact(), prompt.tokens());
    if (owner.enforceLimits()) {
      ApiError error =
          ContextLimits.check(api, spec, prompt, owner.catalog().estimateRejectMargin());
      if (error != null) {
        rejected = true;
        throw new RejectException(error);
      }
    }
    reader = new UsageReader(api, spec.tokenizer());
    return null;
  }

  @Override
  public Map<String, Object> requestMetadata() {
    if (prompt == null) {
      return Map.of();
    }
    return Map.of(
        "prompt_tokens_counted", prompt.tokens(),
        "token_count_method", prompt.tokenizer().tag(),
        "token_count_exact", prompt.exact());
  }

  @Override
  public void onResponseEvent(SseEvent event) {
    UsageReader reader = this.reader;
    if (reader != null && watching()) {
      try {
        reader.event(event);
      } catch (RuntimeException e) {
        stopReading(e);
      }
    }
  }

  @Override
  public void onResponseBody(byte[] body) {
    UsageReader reader = this.reader;
    if (reader != null && watching()) {
      try {
        reader.body(body);
        ProviderUsage usage = reader.usage();
        if (usage != null && implausible(usage) != null) {
          reader.bodyText(body); // billed on the gateway's count: it needs the text
        }
      } catch (RuntimeException e) {
        stopReading(e);
      }
    }
  }

  @Override
  public void onResponseEventSkipped(long bytes) {
    UsageReader reader = this.reader;
    if (reader != null && watching()) {
      reader.unread(bytes);
    }
  }

  @Override
  public void onResponseBodyTail(byte[] tail, long totalBytes) {
    UsageReader reader = this.reader;
    if (reader != null && watching()) {
      try {
        reader.tail(tail, totalBytes);
      } catch (RuntimeException e) {
        stopReading(e);
      }
    }
  }

  @Override
  public void onResponseEnd() {
    finish(true);
  }

  @Override
  public Map<String, Object> responseMetadata() {
    TokenReport report = finished;
    if (report == null || report.responseStatus() < 200 || report.responseStatus() > 299) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>(16);
    out.put("prompt_tokens", report.promptTokens());
    out.put("prompt_tokens_source", report.promptSource().tag());
    if (report.completionTokens() >= 0) {
      out.put("completion_tokens", report.completionTokens());
    }
    out.put("completion_tokens_source", report.completionSource().tag());
    out.put("total_tokens", report.totalTokens());
    String rejected = report.usageRejected();
    if (rejected != null) {
      out.put("provider_usage_rejected", rejected);
    }
    ProviderUsage usage = report.reported();
    if (usage != null) {
      putIfKnown(out, "cached_tokens", usage.cachedTokens());
      putIfKnown(out, "cache_creation_tokens", usage.cacheCreationTokens());
      putIfKnown(out, "reasoning_tokens", usage.reasoningTokens());
    }
    String served = servedModel();
    if (served != null) {
      out.put("served_model", served);
    }
    return out;
  }

  /** The model the provider says answered (for example a dated snapshot of the one asked for), or null. */
  public @Nullable String servedModel() {
    return reader == null ? null : reader.servedModel();
  }

  @Override
  public void onEnd() {
    finish(false);
  }

  /**
   * What is known so far: the request-path count once the request body was seen, usage once the
   * response ended. Null before the request body.
   */
  public @Nullable TokenReport report() {
    if (finished != null) {
      return finished;
    }
    PromptCount prompt = this.prompt;
    if (prompt == null) {
      return null;
    }
    return new TokenReport(
        spec.name(),
        prompt.tokenizer(),
        prompt.tokens(),
        prompt.exact(),
        prompt.maxOutputTokens(),
        reader == null ? null : reader.usage(),
        -1,
        context.responseStatus(),
        false);
  }

  private boolean watching() {
    return reading
        && reader != null
        && context.responseStatus() >= 200
        && context.responseStatus() <= 299;
  }

  private void stopReading(RuntimeException e) {
    reading = false;
    log.warn("stopped reading usage of a {} response: {}", context.api(), e.toString());
  }

  /** Why {@code usage} is not believable for this exchange, or null when it is. */
  private UsageBounds.@Nullable Reason implausible(ProviderUsage usage) {
    PromptCount prompt =
        requireNonNull(this.prompt, "prompt (expected: counted before the response)");
    return UsageBounds.of(api, prompt, spec).check(usage);
  }

  /**
   * The catalog entry of the model the exchange is sent to (a retarget opens the stage again, so this
   * is always the model the request goes to).
   */
  private void resolveModel() {
    ModelTarget target = context.target();
    String model = target != null ? target.model() : context.requestedModel();
    String resolvedFor = model == null ? "" : model;
    spec = owner.catalog().resolve(resolvedFor, api.family());
    modelTag =
        spec.listed() ? spec.name() : target != null ? target.model() : TokenMetrics.UNLISTED_MODEL;
  }

  /** Builds the final report once, records the metrics and hands it to the sink. */
  private @Nullable TokenReport finish(boolean complete) {
    PromptCount prompt = this.prompt;
    if (finished != null || prompt == null || rejected) {
      return finished;
    }
    int status = context.responseStatus();
    boolean ok = status >= 200 && status <= 299;
    UsageReader reader = this.reader;
    ProviderUsage usage = ok && reader != null ? reader.usage() : null;
    UsageBounds.Reason rejected = usage == null ? null : implausible(usage);
    long counted = ok && reader != null ? reader.completionCounted() : -1;
    boolean fromBytes = ok && reader != null && reader.completionFromBytes();
    if (fromBytes) {
      // An estimate from bytes (markup, logprobs, ...) is never more than the request allowed.
      counted = Math.min(counted, UsageBounds.of(api, prompt, spec).completionLimit());
    }
    TokenReport report = new TokenReport(
        spec.name(),
        prompt.tokenizer(),
        prompt.tokens(),
        prompt.exact(),
        prompt.maxOutputTokens(),
        rejected == null ? usage : null,
        counted,
        status,
        complete,
        rejected == null ? null : rejected.tag(),
        fromBytes);
    finished = report;
    if (ok) {
      record(report);
    }
    owner.deliver(context, report);
    return report;
  }

  private void record(TokenReport r) {
    TokenMetrics metrics = owner.metrics();
    String provider =
        context.provider() != null ? context.provider() : TokenMetrics.UNKNOWN_PROVIDER;
    metrics.usage(provider, modelTag, "input", r.promptSource().tag(), r.promptTokens());
    if (r.completionTokens() >= 0) {
      metrics.usage(provider, modelTag, "output", r.completionSource().tag(), r.completionTokens());
    }
    ProviderUsage usage = r.reported();
    String rejected = r.usageRejected();
    if (rejected != null) {
      metrics.usageImplausible(modelTag, rejected);
      return;
    }
    if (usage == null) {
      metrics.usageMissing(modelTag);
      return;
    }
    if (usage.cachedTokens() > 0) {
      metrics.detail(modelTag, "cached_input", usage.cachedTokens());
    }
    if (usage.cacheCreationTokens() > 0) {
      metrics.detail(modelTag, "cache_creation_input", usage.cacheCreationTokens());
    }
    if (usage.reasoningTokens() > 0) {
      metrics.detail(modelTag, "reasoning", usage.reasoningTokens());
    }
    String method = r.tokenizer().tag();
    if (usage.promptTokens() >= 0) {
      metrics.countError(
          modelTag,
          "prompt",
          method,
          r.countExact(),
          r.promptTokensCounted(),
          usage.promptTokens());
    }
    if (usage.completionTokens() >= 0
        && r.completionTokensCounted() >= 0
        && context.api() != LlmApi.OPENAI_EMBEDDINGS) {
      metrics.countError(
          modelTag,
          "completion",
          method,
          false,
          r.completionTokensCounted(),
          usage.completionTokens());
    }
  }

  private static void putIfKnown(Map<String, Object> out, String key, long value) {
    if (value >= 0) {
      out.put(key, value);
    }
  }
}
