package dev.llmgw.extproc.tokens;

import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.RejectException;
import dev.llmgw.extproc.server.StreamContext;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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
  private ModelSpec spec;
  private String modelTag;
  private String resolvedFor;
  private PromptCount prompt;
  private UsageReader reader;
  private boolean rejected;
  private boolean reading = true;
  private TokenReport finished;

  TokenObserver(TokenCounting owner, StreamContext context) {
    this.owner = owner;
    this.context = context;
  }

  @Override
  public void onRequestBody(byte[] forwarded) {
    LlmApi api = context.api();
    resolveModel();
    try {
      prompt = PromptCounter.count(api, forwarded, spec);
    } catch (RuntimeException e) {
      // A counting bug must not take traffic down: the exchange goes on uncounted and unchecked.
      owner.metrics().countFailure(modelTag);
      log.warn("could not count the prompt of a {} request for {}; forwarding it unchecked", api, modelTag, e);
      return;
    }
    owner.metrics().promptCounted(modelTag, prompt.tokenizer().tag(), prompt.exact(), prompt.tokens());
    if (owner.enforceLimits()) {
      ApiError error = ContextLimits.check(api, spec, prompt, owner.catalog().estimateRejectMargin());
      if (error != null) {
        rejected = true;
        throw new RejectException(error);
      }
    }
    reader = new UsageReader(api, spec.tokenizer());
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
    if (watching()) {
      try {
        reader.event(event);
      } catch (RuntimeException e) {
        stopReading(e);
      }
    }
  }

  @Override
  public void onResponseBody(byte[] body) {
    if (watching()) {
      try {
        reader.body(body);
      } catch (RuntimeException e) {
        stopReading(e);
      }
    }
  }

  @Override
  public Map<String, Object> responseMetadata() {
    TokenReport report = finish(true);
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
  public String servedModel() {
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
  public TokenReport report() {
    if (finished != null) {
      return finished;
    }
    if (prompt == null) {
      return null;
    }
    return new TokenReport(spec.name(), prompt.tokenizer(), prompt.tokens(), prompt.exact(), prompt.maxOutputTokens(),
        reader == null ? null : reader.usage(), -1, context.responseStatus(), false);
  }

  private boolean watching() {
    return reading && reader != null && context.responseStatus() >= 200 && context.responseStatus() <= 299;
  }

  private void stopReading(RuntimeException e) {
    reading = false;
    log.warn("stopped reading usage of a {} response: {}", context.api(), e.toString());
  }

  /** The catalog entry of the model the exchange is sent to; again if a later listener retargeted it. */
  private void resolveModel() {
    String model = context.target() != null ? context.target().model() : context.requestedModel();
    resolvedFor = model == null ? "" : model;
    spec = owner.catalog().resolve(resolvedFor, context.api().provider());
    modelTag = spec.listed() ? spec.name() : context.target() != null ? context.target().model() : TokenMetrics.UNLISTED_MODEL;
  }

  /** Builds the final report once, records the metrics and hands it to the sink. */
  private TokenReport finish(boolean complete) {
    if (finished != null || prompt == null || rejected) {
      return finished;
    }
    if (context.target() != null && !context.target().model().equals(resolvedFor)) {
      // A budget downgraded the exchange after it was counted: report (and price) the model it went to.
      resolveModel();
    }
    int status = context.responseStatus();
    boolean ok = status >= 200 && status <= 299;
    ProviderUsage usage = ok ? reader.usage() : null;
    int counted = ok ? reader.completionCounted() : -1;
    finished = new TokenReport(spec.name(), prompt.tokenizer(), prompt.tokens(), prompt.exact(), prompt.maxOutputTokens(),
        usage, counted, status, complete);
    if (ok) {
      record(finished);
    }
    owner.deliver(context, finished);
    return finished;
  }

  private void record(TokenReport r) {
    TokenMetrics metrics = owner.metrics();
    String provider = context.api().provider().name().toLowerCase(Locale.ROOT);
    metrics.usage(provider, modelTag, "input", r.promptSource().tag(), r.promptTokens());
    if (r.completionTokens() >= 0) {
      metrics.usage(provider, modelTag, "output", r.completionSource().tag(), r.completionTokens());
    }
    ProviderUsage usage = r.reported();
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
      metrics.countError(modelTag, "prompt", method, r.countExact(), r.promptTokensCounted(), usage.promptTokens());
    }
    if (usage.completionTokens() >= 0 && r.completionTokensCounted() >= 0 && context.api() != LlmApi.OPENAI_EMBEDDINGS) {
      metrics.countError(modelTag, "completion", method, false, r.completionTokensCounted(), usage.completionTokens());
    }
  }

  private static void putIfKnown(Map<String, Object> out, String key, int value) {
    if (value >= 0) {
      out.put(key, value);
    }
  }
}
