package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.Fact;
import dev.llmgw.extproc.server.StreamContext;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Token counting as an {@link ExchangeListener}: exact prompt counts for OpenAI models (their
 * public tokenizers plus the chat format's overhead), labelled estimates for Claude, context-window
 * enforcement, provider usage from JSON and SSE responses, locally counted completions when the
 * provider reports none, and a metric of how far the gateway's counts are from the provider's.
 *
 * <p>Wire it into the server's listener list; later capabilities (cost, budgets) receive each
 * exchange's {@link TokenReport} through {@link Builder#onReport}.
 */
public final class TokenCounting implements ExchangeListener {

  /** The exchange's token counts as far as they are known: the prompt, then the usage. */
  public static final Fact<TokenObserver> TOKENS = Fact.of("tokens", TokenObserver.class);

  /** Receives the final {@link TokenReport} of every exchange whose request body was counted. */
  @FunctionalInterface
  public interface ReportSink {
    /**
     * Called once per exchange, on the stream's thread: when the response body ends (before the
     * listeners after this one produce their response metadata), or at the end of the stream when
     * the response never finished. Not called for requests the context-window check refused.
     */
    void accept(StreamContext context, TokenReport report);
  }

  private static final Logger log = LoggerFactory.getLogger(TokenCounting.class);

  private final TokenMetrics metrics;
  private final ModelCatalog catalog;
  private final @Nullable ReportSink sink;
  private final boolean enforceLimits;

  private TokenCounting(Builder b) {
    this.metrics = new TokenMetrics(b.registry);
    this.catalog = requireNonNull(b.catalog, "catalog"); // build() fills in the built-in one
    this.sink = b.sink;
    this.enforceLimits = b.enforceLimits;
  }

  /** Token counting with the built-in model catalog; loads the tokenizers now (about a second). */
  public static TokenCounting listener(MeterRegistry registry) {
    return builder(registry).build();
  }

  /** Token counting with {@code catalog} (for example {@link ModelCatalog#load} of an operator's file). */
  public static TokenCounting listener(MeterRegistry registry, ModelCatalog catalog) {
    return builder(registry).catalog(catalog).build();
  }

  public static Builder builder(MeterRegistry registry) {
    return new Builder(requireNonNull(registry, "registry"));
  }

  /**
   * Counts the prompt of {@code body}, a request of {@code api} for {@code model}, as the request path
   * does (no limits are checked). For tools and benchmarks; the data path goes through {@link #open}.
   */
  public PromptCount countPrompt(LlmApi api, String model, byte[] body) {
    requireNonNull(api, "api");
    return PromptCounter.count(
        api,
        requireNonNull(body, "body"),
        catalog.resolve(requireNonNull(model, "model"), api.family()));
  }

  @Override
  public Set<Fact<?>> produces() {
    return Set.of(TOKENS);
  }

  @Override
  public TokenObserver open(StreamContext context) {
    TokenObserver observer = new TokenObserver(this, context);
    context.put(TOKENS, observer);
    return observer;
  }

  /** Every LLM response is watched: usage lives in its body. */
  @Override
  public boolean wantsResponseBody(StreamContext context) {
    return context.api() != null;
  }

  ModelCatalog catalog() {
    return catalog;
  }

  TokenMetrics metrics() {
    return metrics;
  }

  boolean enforceLimits() {
    return enforceLimits;
  }

  void deliver(StreamContext context, TokenReport report) {
    if (sink == null) {
      return;
    }
    try {
      sink.accept(context, report);
    } catch (RuntimeException e) {
      log.warn("token report sink failed", e);
    }
  }

  /** Options of {@link TokenCounting}. */
  public static final class Builder {
    private final MeterRegistry registry;
    private @Nullable ModelCatalog catalog;
    private @Nullable ReportSink sink;
    private boolean enforceLimits = true;

    private Builder(MeterRegistry registry) {
      this.registry = registry;
    }

    /** The model catalog; default {@link ModelCatalog#builtIn()}. */
    public Builder catalog(ModelCatalog catalog) {
      this.catalog = requireNonNull(catalog, "catalog");
      return this;
    }

    /** Where each exchange's final report goes (cost, budgets); default none. */
    public Builder onReport(ReportSink sink) {
      this.sink = requireNonNull(sink, "sink");
      return this;
    }

    /** Whether requests that cannot fit the model are refused with a 400; default true. */
    public Builder enforceContextWindow(boolean enforce) {
      this.enforceLimits = enforce;
      return this;
    }

    /** Builds the listener and loads both tokenizers, so the first request does not pay for it. */
    public TokenCounting build() {
      if (catalog == null) {
        catalog = ModelCatalog.builtIn();
      }
      Tokenizer.load();
      return new TokenCounting(this);
    }
  }
}
