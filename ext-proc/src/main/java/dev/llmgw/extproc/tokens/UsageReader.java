package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
  private static final byte[] USAGE_KEY = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
  /** Slots per output position: content, refusal, reasoning, then tool calls. */
  private static final int SLOTS_PER_POSITION = 64;

  private final LlmApi api;
  private final CompletionTally tally;
  // OpenAI-style figures, or Anthropic's parts before normalization; -1 = not reported.
  private long prompt = -1;
  private long completion = -1;
  private long total = -1;
  private long cached = -1;
  private long cacheCreation = -1;
  private long cacheCreation1h = -1;
  private long reasoning = -1;
  private @Nullable String servedModel;
  private boolean reported;
  /** Response bytes the reader never saw as text: oversized SSE events, a JSON body too large to hold. */
  private long unreadBytes;

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
    if (api.family() == LlmApi.Family.ANTHROPIC) {
      long in = prompt < 0 ? -1 : add(add(prompt, Math.max(0, cached)), Math.max(0, cacheCreation));
      long sum = in >= 0 && completion >= 0 ? add(in, completion) : -1;
      return new ProviderUsage(in, completion, sum, cached, cacheCreation, -1, cacheCreation1h);
    }
    long out = completion;
    if (out < 0 && api == LlmApi.OPENAI_EMBEDDINGS && prompt >= 0) {
      out = 0;
    }
    long sum = total >= 0 ? total : (prompt >= 0 && out >= 0 ? add(prompt, out) : -1);
    return new ProviderUsage(prompt, out, sum, cached, -1, reasoning);
  }

  /**
   * The response text's tokens as counted by the gateway, or -1 when none was seen. Bytes it could
   * not read as text ({@link #unread}) are added as an estimate ({@link Tokenizer#estimate} of their
   * number, as if each were a character), so a response too large to read is still charged.
   */
  long completionCounted() {
    if (api == LlmApi.OPENAI_EMBEDDINGS) {
      return 0;
    }
    if (!tally.seen() && unreadBytes == 0) {
      return -1;
    }
    return (tally.seen() ? tally.total() : 0)
        + (unreadBytes == 0 ? 0 : Tokenizer.estimate(unreadBytes));
  }

  /** Whether part of {@link #completionCounted()} is an estimate from bytes that were not read. */
  boolean completionFromBytes() {
    return api != LlmApi.OPENAI_EMBEDDINGS && unreadBytes > 0;
  }

  /** {@code bytes} of the response went by without being read (an SSE event too large to hold). */
  void unread(long bytes) {
    unreadBytes = add(unreadBytes, bytes);
  }

  /**
   * The end of a JSON response too large to hold: its usage, when the last {@code "usage": {...}}
   * of the tail parses (providers write usage after the generated content), and the whole body's
   * {@code totalBytes} as unread, for when there is no believable usage.
   */
  void tail(byte[] tail, long totalBytes) {
    unread(totalBytes);
    JsonNode usage = lastUsageObject(tail);
    if (usage == null) {
      return;
    }
    if (api.family() == LlmApi.Family.ANTHROPIC) {
      anthropicUsage(usage);
    } else {
      openAiUsage(usage);
    }
  }

  /** The object after the last {@code "usage":} in {@code tail} that parses, or null. */
  private static @Nullable JsonNode lastUsageObject(byte[] tail) {
    for (int at = lastIndexOf(tail, USAGE_KEY, tail.length);
        at >= 0;
        at = lastIndexOf(tail, USAGE_KEY, at)) {
      if (at > 0 && tail[at - 1] == '\\') {
        continue; // inside a string: an escaped quote
      }
      int i = skipSpace(tail, at + USAGE_KEY.length);
      if (i >= tail.length || tail[i] != ':') {
        continue;
      }
      i = skipSpace(tail, i + 1);
      if (i >= tail.length || tail[i] != '{') {
        continue;
      }
      try (JsonParser p = JSON.createParser(tail, i, tail.length - i)) {
        JsonNode node = p.readValueAsTree();
        if (node != null && node.isObject()) {
          return node;
        }
      } catch (IOException e) {
        // cut off or not JSON: try an earlier one
      }
    }
    return null;
  }

  private static int lastIndexOf(byte[] in, byte[] what, int before) {
    for (int i = Math.min(before, in.length) - what.length; i >= 0; i--) {
      if (Arrays.equals(in, i, i + what.length, what, 0, what.length)) {
        return i;
      }
    }
    return -1;
  }

  private static int skipSpace(byte[] in, int from) {
    int i = from;
    while (i < in.length && (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t')) {
      i++;
    }
    return i;
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

  /**
   * A whole JSON response: usage first; the text only when the provider reported no usage (when
   * it reported usage that is not believable, the caller asks for the text with {@link #bodyText}).
   */
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
      if (api.family() == LlmApi.Family.ANTHROPIC) {
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
  void bodyText(byte[] body) {
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
    long p = firstCount(usage, "prompt_tokens", "input_tokens");
    long c = firstCount(usage, "completion_tokens", "output_tokens");
    long t = firstCount(usage, "total_tokens", null);
    if (p < 0 && c < 0 && t < 0) {
      return;
    }
    reported = true;
    prompt = p;
    completion = c;
    total = t;
    cached = firstCount(usage.path("prompt_tokens_details"), "cached_tokens", null);
    if (cached < 0) {
      cached = firstCount(usage.path("input_tokens_details"), "cached_tokens", null);
    }
    reasoning = firstCount(usage.path("completion_tokens_details"), "reasoning_tokens", null);
    if (reasoning < 0) {
      reasoning = firstCount(usage.path("output_tokens_details"), "reasoning_tokens", null);
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
    long in = firstCount(usage, "input_tokens", null);
    long out = firstCount(usage, "output_tokens", null);
    long read = firstCount(usage, "cache_read_input_tokens", null);
    long created = firstCount(usage, "cache_creation_input_tokens", null);
    JsonNode split = usage.get("cache_creation");
    long created1h = split != null && split.isObject()
        ? firstCount(split, "ephemeral_1h_input_tokens", null)
        : -1;
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

  /**
   * A token count: a whole number >= 0, or -1 when absent, negative or not a whole number. A number
   * too large for a {@code long} reads as {@link Long#MAX_VALUE}, never as its low 64 bits.
   */
  private static long firstCount(JsonNode node, String name, @Nullable String alternative) {
    JsonNode v = node.get(name);
    if ((v == null || !v.isIntegralNumber()) && alternative != null) {
      v = node.get(alternative);
    }
    if (v == null || !v.isIntegralNumber()) {
      return -1;
    }
    if (v.canConvertToLong()) {
      return v.longValue() < 0 ? -1 : v.longValue();
    }
    return v.bigIntegerValue().signum() < 0 ? -1 : Long.MAX_VALUE;
  }

  /** Sum of two counts >= 0 that stays at {@link Long#MAX_VALUE} instead of wrapping. */
  private static long add(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  private static @Nullable String text(@Nullable JsonNode node) {
    return node != null && node.isTextual() ? node.asText() : null;
  }
}
