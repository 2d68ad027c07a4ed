package dev.llmgw.extproc.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LlmApiTest {

  @Test
  void detectsEachSupportedApiByPath() {
    assertThat(LlmApi.detect("POST", "/v1/chat/completions"))
        .contains(LlmApi.OPENAI_CHAT_COMPLETIONS);
    assertThat(LlmApi.detect("POST", "/v1/completions")).contains(LlmApi.OPENAI_COMPLETIONS);
    assertThat(LlmApi.detect("POST", "/v1/embeddings")).contains(LlmApi.OPENAI_EMBEDDINGS);
    assertThat(LlmApi.detect("POST", "/v1/responses")).contains(LlmApi.OPENAI_RESPONSES);
    assertThat(LlmApi.detect("POST", "/v1/messages")).contains(LlmApi.ANTHROPIC_MESSAGES);
    assertThat(LlmApi.ANTHROPIC_MESSAGES.family()).isEqualTo(LlmApi.Family.ANTHROPIC);
  }

  @Test
  void toleratesQueryStringAndTrailingSlash() {
    assertThat(LlmApi.detect("POST", "/v1/chat/completions?api-version=2024-10-21"))
        .contains(LlmApi.OPENAI_CHAT_COMPLETIONS);
    assertThat(LlmApi.detect("POST", "/v1/messages/")).contains(LlmApi.ANTHROPIC_MESSAGES);
  }

  @Test
  void everythingElsePassesThrough() {
    assertThat(LlmApi.detect("GET", "/v1/chat/completions")).isEmpty();
    assertThat(LlmApi.detect("GET", "/v1/models")).isEmpty();
    assertThat(LlmApi.detect("POST", "/v1/responses/resp_123/cancel")).isEmpty();
    assertThat(LlmApi.detect("POST", "/v1/messages/count_tokens")).isEmpty();
    assertThat(LlmApi.detect("POST", "/healthz")).isEmpty();
    assertThat(LlmApi.detect("POST", null)).isEmpty();
  }
}
