package dev.llmgw.extproc.api;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** The LLM API shapes the gateway understands; anything else passes through untouched. */
public enum LlmApi {
  OPENAI_CHAT_COMPLETIONS("/v1/chat/completions", Provider.OPENAI),
  OPENAI_COMPLETIONS("/v1/completions", Provider.OPENAI),
  OPENAI_EMBEDDINGS("/v1/embeddings", Provider.OPENAI),
  OPENAI_RESPONSES("/v1/responses", Provider.OPENAI),
  ANTHROPIC_MESSAGES("/v1/messages", Provider.ANTHROPIC);

  /** Whose error shape and conventions an API follows. */
  public enum Provider {
    OPENAI,
    ANTHROPIC
  }

  private final String path;
  private final Provider provider;

  LlmApi(String path, Provider provider) {
    this.path = path;
    this.provider = provider;
  }

  public String path() {
    return path;
  }

  public Provider provider() {
    return provider;
  }

  /**
   * The API a request targets, from its method and {@code :path}. Only POST carries an LLM body;
   * the query string is ignored and a trailing slash is tolerated. Sub-resources such as
   * {@code /v1/responses/{id}} are not LLM calls and pass through.
   */
  public static Optional<LlmApi> detect(@Nullable String method, @Nullable String rawPath) {
    if (!"POST".equals(method) || rawPath == null) {
      return Optional.empty();
    }
    int query = rawPath.indexOf('?');
    String path = query < 0 ? rawPath : rawPath.substring(0, query);
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    for (LlmApi api : values()) {
      if (api.path.equals(path)) {
        return Optional.of(api);
      }
    }
    return Optional.empty();
  }
}
