package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * OpenAI chat prompts (and the Responses API, counted the same way), by the published rules (see
 * docs/tokens.md):
 * <ul>
 *   <li>every message: 3 tokens + tokens of each value (role, content, name); +1 when a name is
 *       given; 3 more for the reply priming — OpenAI cookbook "How to count tokens with tiktoken";
 *   <li>function/tool definitions: the TypeScript rendering of {@link FunctionDefinitions} + 9, minus
 *       4 when a system message exists, the first system message padded with a newline; a
 *       {@code function} message −2; an assistant {@code function_call} + name + arguments + 3;
 *       {@code function_call: "none"} +1, a named one +4 + name — hmarr/openai-chat-tokens, whose
 *       table of API-observed counts these rules reproduce.
 * </ul>
 * Anything else the prompt can carry (images, audio, files, assistant {@code tool_calls}, {@code tool}
 * messages, several text parts in one message, JSON-schema response formats) has no published rule:
 * it is counted as closely as the rules allow and the count is marked inexact.
 */
final class OpenAiChatPrompt {

  /** Tokens around every chat message: {@code <|start|>{role}\n{content}<|end|>\n}. */
  static final int TOKENS_PER_MESSAGE = 3;
  /** A {@code name} on a message adds one token beyond the name itself. */
  static final int TOKENS_PER_NAME = 1;
  /** Every reply is primed with {@code <|start|>assistant<|message|>}. */
  static final int REPLY_PRIMING = 3;
  /** Overhead of a function/tool block. */
  static final int FUNCTIONS_OVERHEAD = 9;
  /** The function block reuses an existing system message. */
  static final int SYSTEM_AND_FUNCTIONS_OVERLAP = 4;
  /** A {@code function} role message costs two tokens less. */
  static final int FUNCTION_MESSAGE_ADJUSTMENT = -2;
  /** An assistant message's {@code function_call} adds name + arguments + 3. */
  static final int FUNCTION_CALL_OVERHEAD = 3;
  /** {@code function_call: "none"}. */
  static final int FUNCTION_CALL_NONE = 1;
  /** {@code function_call: {"name": ...}} adds the name + 4. */
  static final int FUNCTION_CALL_NAMED = 4;

  private OpenAiChatPrompt() {}

  static PromptCount chat(JsonParser p, Tally t) throws IOException {
    Chat chat = new Chat(t);
    JsonNode functions = null;
    JsonNode tools = null;
    JsonNode functionCall = null;
    JsonNode toolChoice = null;
    OutputBudget output = new OutputBudget();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "messages" -> {
          if (value == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
              chat.message(p);
            }
          } else {
            PromptCounter.skip(p, t);
          }
        }
        case "functions" -> functions = p.readValueAsTree();
        case "tools" -> tools = p.readValueAsTree();
        case "function_call" -> functionCall = p.readValueAsTree();
        case "tool_choice" -> toolChoice = p.readValueAsTree();
        case "max_completion_tokens" -> output.preferred(p, field);
        case "max_tokens" -> output.fallback(p, field);
        case "n" -> output.choices(p);
        case "response_format" -> responseFormat(p.readValueAsTree(), t);
        default -> p.skipChildren();
      }
    }
    List<JsonNode> definitions = new ArrayList<>();
    addFunctions(functions, false, definitions, t);
    addFunctions(tools, true, definitions, t);
    chat.finish(definitions);
    choice(functionCall, false, t);
    choice(toolChoice, true, t);
    return output.count(t, -1);
  }

  /** Chat messages as the cookbook and hmarr count them; the first system message waits for the tools. */
  private static final class Chat {
    final Tally t;

    @Nullable
    String firstSystem;

    boolean firstSystemSeen;
    boolean anySystem;

    Chat(Tally t) {
      this.t = t;
    }

    void message(JsonParser p) throws IOException {
      if (p.currentToken() != JsonToken.START_OBJECT) {
        PromptCounter.skip(p, t);
        return;
      }
      String role = null;
      String content = null;
      String name = null;
      JsonNode functionCall = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "role" -> role = value == JsonToken.VALUE_STRING ? p.getText() : null;
          case "content" -> {
            if (value == JsonToken.VALUE_STRING) {
              content = p.getText();
            } else if (value == JsonToken.START_ARRAY) {
              contentParts(p);
            } else if (value != JsonToken.VALUE_NULL) {
              PromptCounter.skip(p, t);
            }
          }
          case "name" -> name = value == JsonToken.VALUE_STRING ? p.getText() : null;
          case "function_call" -> functionCall = p.readValueAsTree();
          case "tool_calls" -> toolCalls(p.readValueAsTree());
          case "audio" -> PromptCounter.skip(p, t);
          default -> p.skipChildren();
        }
      }
      t.fixed(TOKENS_PER_MESSAGE);
      t.text(role);
      boolean system = "system".equals(role);
      anySystem |= system;
      if (system && !firstSystemSeen) {
        firstSystemSeen = true;
        firstSystem = content;
      } else {
        t.text(content);
      }
      if (name != null) {
        t.text(name);
        t.fixed(TOKENS_PER_NAME);
      }
      if ("function".equals(role)) {
        t.fixed(FUNCTION_MESSAGE_ADJUSTMENT);
      } else if ("tool".equals(role)) {
        t.inexact(); // no published rule for tool results
      }
      if ("assistant".equals(role) && functionCall != null && functionCall.isObject()) {
        t.text(functionCall.path("name").asText(""));
        t.text(functionCall.path("arguments").asText(""));
        t.fixed(FUNCTION_CALL_OVERHEAD);
      }
    }

    private void contentParts(JsonParser p) throws IOException {
      int parts = 0;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        parts++;
        JsonNode part = p.readValueAsTree();
        String type = part.path("type").asText("");
        switch (type) {
          case "text" -> t.text(part.path("text").asText(""));
          case "refusal" -> t.text(part.path("refusal").asText(""));
          default -> t.inexact(); // image_url, input_audio, file: no text rule
        }
      }
      if (parts > 1) {
        t.inexact(); // how several parts are joined is not published
      }
    }

    /** Assistant tool calls: counted like a legacy function_call; the real framing is unpublished. */
    private void toolCalls(JsonNode calls) {
      t.inexact();
      if (!calls.isArray()) {
        return;
      }
      for (JsonNode call : calls) {
        JsonNode f = call.path("function");
        t.text(f.path("name").asText(""));
        t.text(f.path("arguments").asText(""));
        t.fixed(FUNCTION_CALL_OVERHEAD);
      }
    }

    void finish(List<JsonNode> definitions) {
      if (definitions.isEmpty()) {
        t.text(firstSystem);
      } else {
        if (firstSystem != null) {
          t.text(firstSystem + "\n");
        }
        t.text(FunctionDefinitions.render(definitions, t));
        t.fixed(FUNCTIONS_OVERHEAD);
        if (anySystem) {
          t.fixed(-SYSTEM_AND_FUNCTIONS_OVERLAP);
        }
      }
      t.fixed(REPLY_PRIMING);
    }
  }

  /**
   * Collects function definitions: legacy {@code functions} entries as they are, {@code tools}
   * entries of type function by their {@code function} object (chat) or flat (Responses API).
   */
  private static void addFunctions(
      @Nullable JsonNode list, boolean tools, List<JsonNode> into, Tally t) {
    if (list == null || !list.isArray()) {
      return;
    }
    for (JsonNode entry : list) {
      if (!tools) {
        into.add(entry);
      } else if ("function".equals(entry.path("type").asText())
          && entry.path("function").isObject()) {
        into.add(entry.get("function"));
      } else if ("function".equals(entry.path("type").asText()) && entry.has("name")) {
        into.add(entry);
      } else {
        t.inexact(); // custom, web search, file search, MCP ... tools: no published rendering
      }
    }
  }

  /** {@code function_call} / {@code tool_choice}: published for function_call; assumed alike for tool_choice. */
  private static void choice(@Nullable JsonNode choice, boolean toolChoice, Tally t) {
    if (choice == null || choice.isNull()) {
      return;
    }
    if (choice.isTextual()) {
      switch (choice.asText()) {
        case "auto" -> {}
        case "none" -> {
          t.fixed(FUNCTION_CALL_NONE);
          if (toolChoice) {
            t.inexact();
          }
        }
        default -> t.inexact(); // "required"
      }
      return;
    }
    String name = toolChoice
        ? choice.path("function").path("name").asText(choice.path("name").asText(null))
        : choice.path("name").asText(null);
    if (name == null) {
      t.inexact();
      return;
    }
    t.text(name);
    t.fixed(FUNCTION_CALL_NAMED);
    if (toolChoice) {
      t.inexact();
    }
  }

  /** A JSON schema the output must follow is shown to the model in an unpublished form: its text is counted. */
  private static void responseFormat(JsonNode format, Tally t) {
    String type = format.path("type").asText("");
    if (type.equals("json_schema")) {
      t.inexact();
      t.text(format.path("json_schema").toString());
    } else if (!type.equals("text") && !type.equals("json_object") && !type.isEmpty()) {
      t.inexact();
    }
  }

  /**
   * The Responses API: instructions as a system message, input as messages, function tools rendered
   * like chat tools. Its framing is not published, so these counts are never marked exact.
   */
  static PromptCount responses(JsonParser p, Tally t) throws IOException {
    OutputBudget output = new OutputBudget();
    JsonNode tools = null;
    JsonNode toolChoice = null;
    boolean system = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "instructions" -> {
          if (value == JsonToken.VALUE_STRING) {
            system = true;
            t.fixed(TOKENS_PER_MESSAGE);
            t.text("system");
            t.text(p.getText());
          } else {
            p.skipChildren();
          }
        }
        case "input" -> {
          if (value == JsonToken.VALUE_STRING) {
            t.fixed(TOKENS_PER_MESSAGE);
            t.text("user");
            t.text(p.getText());
          } else if (value == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
              system |= responseItem(p.readValueAsTree(), t);
            }
          } else {
            p.skipChildren();
          }
        }
        case "tools" -> tools = p.readValueAsTree();
        case "tool_choice" -> toolChoice = p.readValueAsTree();
        case "max_output_tokens" -> output.preferred(p, field);
        case "text" -> {
          JsonNode text = p.readValueAsTree();
          if (text.path("format").path("type").asText("").equals("json_schema")) {
            t.text(text.path("format").path("schema").toString());
          }
        }
        default ->
          p.skipChildren(); // previous_response_id, conversation, prompt: server-side, uncounted
      }
    }
    List<JsonNode> definitions = new ArrayList<>();
    addFunctions(tools, true, definitions, t);
    if (!definitions.isEmpty()) {
      t.text(FunctionDefinitions.render(definitions, t));
      t.fixed(FUNCTIONS_OVERHEAD);
      if (system) {
        t.fixed(-SYSTEM_AND_FUNCTIONS_OVERLAP);
      }
    }
    choice(toolChoice, true, t);
    t.fixed(REPLY_PRIMING);
    return output.count(t, -1);
  }

  /** One input item; returns whether it is a system or developer message. */
  private static boolean responseItem(JsonNode item, Tally t) {
    String type = item.path("type").asText("message");
    switch (type) {
      case "message" -> {
        String role = item.path("role").asText("user");
        t.fixed(TOKENS_PER_MESSAGE);
        t.text(role);
        JsonNode content = item.path("content");
        if (content.isTextual()) {
          t.text(content.asText());
        } else if (content.isArray()) {
          for (JsonNode part : content) {
            String partType = part.path("type").asText("");
            if (partType.equals("input_text")
                || partType.equals("output_text")
                || partType.equals("text")) {
              t.text(part.path("text").asText(""));
            } else if (partType.equals("refusal")) {
              t.text(part.path("refusal").asText(""));
            }
            // input_image, input_file, input_audio: no text rule (already inexact)
          }
        }
        return role.equals("system") || role.equals("developer");
      }
      case "function_call" -> {
        t.text(item.path("name").asText(""));
        t.text(item.path("arguments").asText(""));
        t.fixed(FUNCTION_CALL_OVERHEAD);
      }
      case "function_call_output" -> {
        t.fixed(TOKENS_PER_MESSAGE);
        JsonNode out = item.path("output");
        t.text(out.isTextual() ? out.asText() : out.toString());
      }
      default -> {} // reasoning, item_reference, built-in tool calls: not counted
    }
    return false;
  }
}
