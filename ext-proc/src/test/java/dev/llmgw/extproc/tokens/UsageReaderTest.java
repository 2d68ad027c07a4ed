package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Usage extraction from provider responses (JSON and SSE) of both providers. */
class UsageReaderTest {

  private static final Tokenizer O200K = Tokenizer.O200K_BASE;

  @Test
  void openAiJsonUsageCarriesCachedAndReasoningTokensAndTheTextIsNotRecounted() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    reader.body(resource("/tokens/openai-chat-usage.json").toByteArray());

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(1117, 346, 1463, 1024, -1, 320));
    assertThat(reader.usage().uncachedPromptTokens()).isEqualTo(93);
    assertThat(reader.completionCounted()).as("usage present: no need to count").isEqualTo(-1);
  }

  @Test
  void openAiJsonWithoutUsageIsCountedFromTheMessageText() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    reader.body(resource("/tokens/openai-chat-no-usage.json").toByteArray());

    assertThat(reader.usage()).isNull();
    assertThat(reader.completionCounted())
        .isEqualTo(O200K.count("Bonjour ! Comment puis-je vous aider aujourd'hui ?"));
  }

  @Test
  void openAiStreamReportsUsageOnlyInItsLastEvent() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);
    List<SseEvent> events = events("/recorded/openai-chat-stream.sse");
    SseEvent usageEvent = events.get(events.size() - 2);

    for (SseEvent e : events) {
      if (e == usageEvent) {
        assertThat(reader.usage()).as("no usage before the last chunk").isNull();
      }
      reader.event(e);
    }

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(12, 6, 18, 0, -1, 0));
    assertThat(reader.completionCounted()).isEqualTo(O200K.count("Grüße 👋 aus Köln"));
  }

  @Test
  void openAiStreamWithoutUsageCountsContentAndToolCallArgumentsAsTheyArrive() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    events("/tokens/openai-chat-stream-no-usage.sse").forEach(reader::event);

    assertThat(reader.usage()).isNull();
    assertThat(reader.completionCounted())
        .isEqualTo(O200K.count("Let me check the weather in Zürich 🌦️.")
            + O200K.count("get_weather")
            + O200K.count("{\"location\": \"Zürich, CH\"}"));
  }

  @Test
  void completionsStreamReportsUsageInItsLastEvent() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_COMPLETIONS, Tokenizer.CL100K_BASE);

    events("/tokens/openai-completions-stream-usage-last.sse").forEach(reader::event);

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(5, 7, 12, -1, -1, -1));
    assertThat(reader.completionCounted())
        .isEqualTo(Tokenizer.CL100K_BASE.count("\n\nThis is a test."));
  }

  @Test
  void responsesStreamReportsUsageInResponseCompleted() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_RESPONSES, O200K);

    events("/tokens/openai-responses-stream.sse").forEach(reader::event);

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(37, 139, 176, 0, -1, 128));
    assertThat(reader.completionCounted()).isEqualTo(O200K.count("Hi there!"));
  }

  @Test
  void responsesJsonUsesInputAndOutputTokenNames() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_RESPONSES, O200K);

    reader.body(resource("/tokens/openai-responses.json").toByteArray());

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(328, 52, 380, 128, -1, 0));
  }

  @Test
  void embeddingsJsonHasPromptTokensAndNoCompletion() throws Exception {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_EMBEDDINGS, Tokenizer.CL100K_BASE);

    reader.body(resource("/tokens/openai-embeddings.json").toByteArray());

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(8, 0, 8, -1, -1, -1));
    assertThat(reader.completionCounted()).isZero();
  }

  @Test
  void anthropicStreamTakesInputAndCacheFromMessageStartAndCumulativeOutputFromMessageDelta()
      throws Exception {
    UsageReader reader = new UsageReader(LlmApi.ANTHROPIC_MESSAGES, Tokenizer.ESTIMATE);
    List<SseEvent> events = events("/tokens/anthropic-messages-stream-tool-use.sse");

    reader.event(events.get(0));
    assertThat(reader.usage())
        .as("after message_start")
        .isEqualTo(new ProviderUsage(2520, 2, 2522, 2048, 0, -1));
    events.subList(1, events.size()).forEach(reader::event);

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(2520, 89, 2609, 2048, 0, -1));
    assertThat(reader.usage().uncachedPromptTokens()).isEqualTo(472);
    String text = "Okay, let's check the weather for San Francisco, CA:";
    String args = "{\"location\": \"San Francisco, CA\", \"unit\": \"fahrenheit\"}";
    assertThat(reader.completionCounted())
        .as("estimated from text, tool name and arguments")
        .isEqualTo(Tokenizer.estimate(text.length() + "get_weather".length() + args.length()));
  }

  @Test
  void anthropicRecordedStreamAndJsonCountCacheWritesIntoThePrompt() throws Exception {
    UsageReader stream = new UsageReader(LlmApi.ANTHROPIC_MESSAGES, Tokenizer.ESTIMATE);
    events("/recorded/anthropic-messages-stream.sse").forEach(stream::event);
    assertThat(stream.usage()).isEqualTo(new ProviderUsage(15, 4, 19, 0, 0, -1));

    UsageReader json = new UsageReader(LlmApi.ANTHROPIC_MESSAGES, Tokenizer.ESTIMATE);
    json.body(resource("/tokens/anthropic-messages.json").toByteArray());
    assertThat(json.usage())
        .isEqualTo(new ProviderUsage(21 + 188086, 393, 21 + 188086 + 393, 0, 188086, -1));
    assertThat(json.usage().uncachedPromptTokens()).isEqualTo(21);
  }

  @Test
  void laterUsageChunksReplaceEarlierOnesAsCompatibleServersSendRunningTotals() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    reader.event(new SseEvent(
        "",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}",
        ""));
    reader.event(new SseEvent(
        "",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}",
        ""));

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(9, 2, 11, -1, -1, -1));
  }

  @Test
  void malformedOrForeignEventsAreIgnoredWithoutFailing() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    reader.event(new SseEvent("", "{not json", ""));
    reader.event(new SseEvent("", "[1,2,3]", ""));
    reader.event(new SseEvent("", "{\"choices\":\"nope\",\"usage\":\"none\"}", ""));
    reader.event(new SseEvent("", "{\"usage\":{\"prompt_tokens\":-5}}", ""));
    reader.event(new SseEvent("", "[DONE]", ""));
    reader.body("not json at all".getBytes());

    assertThat(reader.usage()).isNull();
    assertThat(reader.completionCounted()).isEqualTo(-1);
  }

  @Test
  void aNumberTooLargeForALongReadsAsTheLargestLongNotAsItsLow64Bits() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    // 10^30 mod 2^64 is a plausible-looking positive number; it must not be taken for one.
    reader.body(("{\"usage\":{\"prompt_tokens\":1000000000000000000000000000000,"
            + "\"completion_tokens\":-1000000000000000000000000000000,\"total_tokens\":12}}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(Long.MAX_VALUE, -1, 12, -1, -1, -1));
  }

  @Test
  void anthropicPartsNearTheIntLimitAddUpWithoutWrappingAround() {
    UsageReader reader = new UsageReader(LlmApi.ANTHROPIC_MESSAGES, Tokenizer.ESTIMATE);

    reader.event(new SseEvent(
        "message_start",
        "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":2147483647,"
            + "\"cache_read_input_tokens\":2147483647,\"output_tokens\":1}}}",
        ""));
    reader.event(new SseEvent(
        "message_delta",
        "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9223372036854775807}}",
        ""));

    ProviderUsage usage = reader.usage();
    assertThat(usage.promptTokens()).isEqualTo(2L * Integer.MAX_VALUE);
    assertThat(usage.totalTokens()).as("saturated, never negative").isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void theTailOfAJsonAnswerTooLargeToHoldGivesItsUsage() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);
    String tail = "ntent\":\"... \\\"usage\\\": {\\\"prompt_tokens\\\": 1}\"}}],"
        + "\"usage\" : {\"prompt_tokens\":12,\"completion_tokens\":3000000,\"total_tokens\":3000012},"
        + "\"system_fingerprint\":\"fp\"}";

    reader.tail(tail.getBytes(java.nio.charset.StandardCharsets.UTF_8), 9_000_000);

    assertThat(reader.usage()).isEqualTo(new ProviderUsage(12, 3_000_000, 3_000_012, -1, -1, -1));
    assertThat(reader.completionCounted())
        .as("kept for when the usage is not believed")
        .isEqualTo(Tokenizer.estimate(9_000_000));
    assertThat(reader.completionFromBytes()).isTrue();
  }

  @Test
  void withoutUsageInTheTailOnlyTheEstimateFromBytesRemains() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);

    reader.tail(
        "text, \"usage\": \"not an object\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        35);

    assertThat(reader.usage()).isNull();
    assertThat(reader.completionCounted()).isEqualTo(Tokenizer.estimate(35));
  }

  @Test
  void bytesOfASkippedEventAreAddedToTheTextCountAsAnEstimate() {
    UsageReader reader = new UsageReader(LlmApi.OPENAI_CHAT_COMPLETIONS, O200K);
    reader.event(new SseEvent(
        "", "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello there\"}}]}", ""));
    assertThat(reader.completionFromBytes()).isFalse();

    reader.unread(2_000_000);

    assertThat(reader.completionCounted())
        .isEqualTo(O200K.count("Hello there") + Tokenizer.estimate(2_000_000));
    assertThat(reader.completionFromBytes()).isTrue();
  }

  private static List<SseEvent> events(String resource) throws Exception {
    return new SseParser(1 << 20).feed(resource(resource));
  }

  private static ByteString resource(String name) throws Exception {
    try (InputStream in = UsageReaderTest.class.getResourceAsStream(name)) {
      return ByteString.readFrom(in);
    }
  }
}
