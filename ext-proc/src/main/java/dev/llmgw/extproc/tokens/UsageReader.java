package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Reads what a response says about tokens: the provider's usage report, and the generated text
 * (fed to a {@link CompletionTally}) for when there is no report. One reader per exchange; it keeps
 * only the usage figures and the tally's bounded buffers.
 *
 * <ul>
 *   <li>OpenAI chat / completions streams: {@code choices[].delta} text and tool-call arguments; the
 *       {@code usage} of the last chunk when {@code stream_options.include_usage} is on (a chunk's usage
 *       replaces earlier ones: some compatible servers send running totals in every chunk);
 *   <li>OpenAI Responses streams: {@code response.*.delta} events; usage in
 *       {@code response.completed} / {@code response.incomplete} / {@code response.failed};
 *   <li>Anthropic streams: {@code message_start} (input, cache read, cache creation, first output
 *       count) and {@code message_delta} (cumulative output count; newer versions repeat input counts);
 *   <li>JSON responses: the top-level {@code usage}; the text is only read when there is none.
 * </ul>
 * Malformed events are ignored: the reader never fails the exchange.
 */
final class UsageReader {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Slots per output position: content, refusal, reasoning, then tool calls. */
  private static final int SLOTS_PER_POSITION = 64;

  private final LlmApi api;
  private final CompletionTally tally;
  // OpenAI-style figures, or Anthropic's parts before normalization; -1 = not reported.
  private int prompt = -1;
  private int completion = -1;
  private int total = -1;
  private int cached = -1;
  private int cacheCreation = -1;
  private int cacheCreation1h = -1;
  private int reasoning = -1;
  private @Nullable String servedModel;
  private boolean reported;

  UsageReader(LlmApi api, Tokenizer tokenizer) {
    this.api = api;
    this.tally = new CompletionTally(tokenizer);
  }

  /** The provider's usage so far, or null when it reported none. */
  @Nullable
  ProviderUsage usage() {
    if (!reported) {
      return null;
    }
    if (api.provider() == LlmApi.Provider.ANTHROPIC) {
      int in = prompt < 0 ? -1 : prompt + Math.max(0, cached) + Math.max(0, cacheCreation);
      int sum = in >= 0 && completion >= 0 ? in + completion : -1;
      return new ProviderUsage(in, completion, sum, cached, cacheCreation, -1, cacheCreation1h);
    }
    int out = completion;
    if (out < 0 && api == LlmApi.OPENAI_EMBEDDINGS && prompt >= 0) {
      out = 0;
    }
    int sum = total >= 0 ? total : (prompt >= 0 && out >= 0 ? prompt + out : -1);
    return new ProviderUsage(prompt, out, sum, cached, -1, reasoning);
  }

  /** The response text's tokens as counted by the gateway, or -1 when none was seen. */
  int completionCounted() {
    if (api == LlmApi.OPENAI_EMBEDDINGS) {
      return 0;
    }
    return tally.seen() ? tally.total() : -1;
  }

  /** The model the provider says served the request (often a dated snapshot), or null when not seen. */
  @Nullable
  String servedModel() {
    return servedModel;
  }

  private void servedModel(JsonNode model) {
    if (servedModel == null
        && model != null
        && model.isTextual()
        && !model.textValue().isEmpty()) {
      servedModel = model.textValue();
    }
  }

  /** One event of a streamed response. */
  void event(SseEvent event) {
    JsonNode node = event.json();
    if (node == null) {
      return; // [DONE], keep-alives
    }
    servedModel(
        switch (api) {
          case OPENAI_RESPONSES -> node.path("response").get("model");
          case ANTHROPIC_MESSAGES -> node.path("message").get("model");
          default -> node.get("model");
        });
    switch (api) {
      case OPENAI_CHAT_COMPLETIONS, OPENAI_COMPLETIONS -> openAiChunk(node);
      case OPENAI_RESPONSES -> responsesEvent(node);
      case ANTHROPIC_MESSAGES -> anthropicEvent(node);
      case OPENAI_EMBEDDINGS -> openAiUsage(node.get("usage"));
    }
  }

  /** A whole JSON response: usage first; the text only when the provider reported no usage. */
  void body(byte[] body) {
    JsonNode usage = null;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        if (field.equals("usage")) {
          usage = p.readValueAsTree();
        } else if (field.equals("model") && p.currentToken() == JsonToken.VALUE_STRING) {
          servedModel(com.fasterxml.jackson.databind.node.TextNode.valueOf(p.getText()));
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      return;
    }
    if (usage != null && usage.isObject()) {
      if (api.provider() == LlmApi.Provider.ANTHROPIC) {
        anthropicUsage(usage);
      } else {
        openAiUsage(usage);
      }
    }
    if (!reported) {
      bodyText(body);
    }
  }

  /**
   * The generated text of a JSON response, read element by element from its {@code choices},
   * {@code output} or {@code content} array, so a large response is never held as one tree.
   */
  private void bodyText(byte[] body) {
    String array = switch (api) {
      case OPENAI_CHAT_COMPLETIONS, OPENAI_COMPLETIONS -> "choices";
      case OPENAI_RESPONSES -> "output";
      case ANTHROPIC_MESSAGES -> "content";
      case OPENAI_EMBEDDINGS -> null;
    };
    if (array == null) {
      return;
    }
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (!field.equals(array) || value != JsonToken.START_ARRAY) {
          p.skipChildren();
          continue;
        }
        long position = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
          responseElement(position++, p.readValueAsTree());
        }
      }
    } catch (IOException e) {
      // keep what was counted
    }
  }

  private void responseElement(long position, JsonNode element) {
    switch (api) {
      case OPENAI_CHAT_COMPLETIONS -> {
        long base = element.path("index").asLong(position) * SLOTS_PER_POSITION;
        JsonNode message = element.path("message");
        tally.add(base, message.path("content").asText(""));
        tally.add(base + 1, message.path("refusal").asText(""));
        int i = 0;
        for (JsonNode call : message.path("tool_calls")) {
          tally.addWhole(call.path("function").path("name").asText(""));
          tally.add(base + 3 + i, call.path("function").path("arguments").asText(""));
          i = Math.min(i + 1, SLOTS_PER_POSITION - 4);
        }
      }
      case OPENAI_COMPLETIONS ->
        tally.add(
            element.path("index").asLong(position) * SLOTS_PER_POSITION,
            element.path("text").asText(""));
      case OPENAI_RESPONSES -> {
        long base = position * SLOTS_PER_POSITION;
        if (element.path("type").asText("").equals("function_call")) {
          tally.addWhole(element.path("name").asText(""));
          tally.add(base + 3, element.path("arguments").asText(""));
        }
        for (JsonNode part : element.path("content")) {
          tally.add(base, part.path("text").asText(""));
          tally.add(base + 1, part.path("refusal").asText(""));
        }
      }
      case ANTHROPIC_MESSAGES -> anthropicBlock(position * SLOTS_PER_POSITION, element);
      case OPENAI_EMBEDDINGS -> {}
    }
  }

  // ---------------------------------------------------------------- OpenAI

  private void openAiChunk(JsonNode chunk) {
    for (JsonNode choice : chunk.path("choices")) {
      long base = choice.path("index").asLong(0) * SLOTS_PER_POSITION;
      if (api == LlmApi.OPENAI_COMPLETIONS) {
        tally.add(base, choice.path("text").asText(""));
        continue;
      }
      JsonNode delta = choice.path("delta");
      tally.add(base, text(delta.get("content")));
      tally.add(base + 1, text(delta.get("refusal")));
      tally.add(base + 2, text(delta.get("reasoning_content")));
      for (JsonNode call : delta.path("tool_calls")) {
        long slot = base + 3 + Math.min(call.path("index").asInt(0), SLOTS_PER_POSITION - 4);
        tally.addWhole(text(call.path("function").get("name")));
        tally.add(slot, text(call.path("function").get("arguments")));
      }
    }
    openAiUsage(chunk.get("usage"));
  }

  private void responsesEvent(JsonNode event) {
    String type = event.path("type").asText("");
    long base = event.path("output_index").asLong(0) * SLOTS_PER_POSITION;
    switch (type) {
      case "response.output_text.delta" -> tally.add(base, text(event.get("delta")));
      case "response.refusal.delta" -> tally.add(base + 1, text(event.get("delta")));
      case "response.function_call_arguments.delta" ->
        tally.add(base + 3, text(event.get("delta")));
      case "response.output_item.added" -> {
        JsonNode item = event.path("item");
        if (item.path("type").asText("").equals("function_call")) {
          tally.addWhole(text(item.get("name")));
        }
      }
      case "response.completed", "response.incomplete", "response.failed" ->
        openAiUsage(event.path("response").get("usage"));
      default -> {}
    }
  }

  /** OpenAI usage object (chat/completions/embeddings names or Responses names); null and JSON null are ignored. */
  private void openAiUsage(JsonNode usage) {
    if (usage == null || !usage.isObject()) {
      return;
    }
    int p = firstInt(usage, "prompt_tokens", "input_tokens");
    int c = firstInt(usage, "completion_tokens", "output_tokens");
    int t = firstInt(usage, "total_tokens", null);
    if (p < 0 && c < 0 && t < 0) {
      return;
    }
    reported = true;
    prompt = p;
    completion = c;
    total = t;
    cached = firstInt(usage.path("prompt_tokens_details"), "cached_tokens", null);
    if (cached < 0) {
      cached = firstInt(usage.path("input_tokens_details"), "cached_tokens", null);
    }
    reasoning = firstInt(usage.path("completion_tokens_details"), "reasoning_tokens", null);
    if (reasoning < 0) {
      reasoning = firstInt(usage.path("output_tokens_details"), "reasoning_tokens", null);
    }
  }

  // ---------------------------------------------------------------- Anthropic

  private void anthropicEvent(JsonNode event) {
    switch (event.path("type").asText("")) {
      case "message_start" -> anthropicUsage(event.path("message").get("usage"));
      case "message_delta" -> anthropicUsage(event.get("usage"));
      case "content_block_start" -> {
        long base = event.path("index").asLong(0) * SLOTS_PER_POSITION;
        JsonNode block = event.path("content_block");
        if (block.path("type").asText("").equals("tool_use")) {
          tally.addWhole(text(block.get("name")));
        } else {
          tally.add(base, text(block.get("text")));
        }
      }
      case "content_block_delta" -> {
        long base = event.path("index").asLong(0) * SLOTS_PER_POSITION;
        JsonNode delta = event.path("delta");
        switch (delta.path("type").asText("")) {
          case "text_delta" -> tally.add(base, text(delta.get("text")));
          case "input_json_delta" -> tally.add(base + 3, text(delta.get("partial_json")));
          case "thinking_delta" -> tally.add(base + 2, text(delta.get("thinking")));
          default -> {}
        }
      }
      default -> {}
    }
  }

  private void anthropicBlock(long base, JsonNode block) {
    switch (block.path("type").asText("")) {
      case "text" -> tally.add(base, block.path("text").asText(""));
      case "thinking" -> tally.add(base + 2, block.path("thinking").asText(""));
      case "tool_use" -> {
        tally.addWhole(block.path("name").asText(""));
        tally.add(base + 3, block.path("input").toString());
      }
      default -> {}
    }
  }

  /** Anthropic usage; later events replace the figures they carry (output_tokens is cumulative). */
  private void anthropicUsage(JsonNode usage) {
    if (usage == null || !usage.isObject()) {
      return;
    }
    int in = firstInt(usage, "input_tokens", null);
    int out = firstInt(usage, "output_tokens", null);
    int read = firstInt(usage, "cache_read_input_tokens", null);
    int created = firstInt(usage, "cache_creation_input_tokens", null);
    JsonNode split = usage.get("cache_creation");
    int created1h =
        split != null && split.isObject() ? firstInt(split, "ephemeral_1h_input_tokens", null) : -1;
    if (in < 0 && out < 0 && read < 0 && created < 0 && created1h < 0) {
      return;
    }
    reported = true;
    prompt = in >= 0 ? in : prompt;
    completion = out >= 0 ? out : completion;
    cached = read >= 0 ? read : cached;
    cacheCreation = created >= 0 ? created : cacheCreation;
    cacheCreation1h = created1h >= 0 ? created1h : cacheCreation1h;
  }

  // ---------------------------------------------------------------- helpers

  private static int firstInt(JsonNode node, String name, @Nullable String alternative) {
    JsonNode v = node.get(name);
    if ((v == null || !v.isIntegralNumber()) && alternative != null) {
      v = node.get(alternative);
    }
    if (v == null || !v.isIntegralNumber() || v.asLong() < 0) {
      return -1;
    }
    return (int) Math.min(Integer.MAX_VALUE, v.asLong());
  }

  private static @Nullable String text(@Nullable JsonNode node) {
    return node != null && node.isTextual() ? node.asText() : null;
  }
}
