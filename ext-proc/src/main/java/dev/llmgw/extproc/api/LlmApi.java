package dev.llmgw.extproc.api;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** The LLM API shapes the gateway understands; anything else passes through untouched. */
public enum LlmApi {
  OPENAI_CHAT_COMPLETIONS("/v1/chat/completions", Family.OPENAI),
  OPENAI_COMPLETIONS("/v1/completions", Family.OPENAI),
  OPENAI_EMBEDDINGS("/v1/embeddings", Family.OPENAI),
  OPENAI_RESPONSES("/v1/responses", Family.OPENAI),
  ANTHROPIC_MESSAGES("/v1/messages", Family.ANTHROPIC);

  /**
   * The family of APIs an API belongs to: whose error shape and conventions it follows. Not a
   * provider: which provider serves an exchange is the operator's configuration and Envoy's word
   * (any provider may serve an OpenAI-shaped API).
   */
  public enum Family {
    OPENAI,
    ANTHROPIC
  }

  private final String path;
  private final Family family;

  LlmApi(String path, Family family) {
    this.path = path;
    this.family = family;
  }

  public String path() {
    return path;
  }

  public Family family() {
    return family;
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
