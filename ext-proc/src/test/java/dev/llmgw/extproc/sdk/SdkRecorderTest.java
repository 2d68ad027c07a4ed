package dev.llmgw.extproc.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recordings the replay tests depend on are what the SDKs really send. */
class SdkRecorderTest {

  @Test
  void recordsOneRequestPerSdkCallWithTheSdksPathsAndModels() throws Exception {
    Map<String, SdkRecorder.Recorded> recorded;
    try (SdkRecorder recorder = new SdkRecorder()) {
      recorded = recorder.recordAll();
    }
    ObjectMapper json = new ObjectMapper();
    assertThat(recorded)
        .containsOnlyKeys(
            "openai-chat",
            "openai-chat-stream",
            "openai-chat-tools",
            "openai-embeddings",
            "anthropic-messages",
            "anthropic-messages-stream",
            "anthropic-messages-tools");
    assertThat(recorded.get("openai-chat").path()).isEqualTo("/v1/chat/completions");
    assertThat(recorded.get("openai-embeddings").path()).isEqualTo("/v1/embeddings");
    assertThat(recorded.get("anthropic-messages").path()).isEqualTo("/v1/messages");
    assertThat(recorded.get("anthropic-messages").headers()).containsKey("anthropic-version");
    JsonNode stream = json.readTree(recorded.get("openai-chat-stream").body());
    assertThat(stream.get("stream").asBoolean()).isTrue();
    assertThat(stream.get("model").asText()).isEqualTo("fast");
    JsonNode tools = json.readTree(recorded.get("openai-chat-tools").body());
    assertThat(tools.at("/tools/0/function/name").asText()).isEqualTo("get_weather");
    JsonNode anthropicTools =
        json.readTree(recorded.get("anthropic-messages-tools").body());
    assertThat(anthropicTools.at("/tools/0/input_schema/properties/city/type").asText())
        .isEqualTo("string");
    assertThat(recorded.get("openai-chat").headers().get("content-type"))
        .startsWith("application/json");
  }
}
