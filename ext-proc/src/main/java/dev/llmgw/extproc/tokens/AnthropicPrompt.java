package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/**
 * Anthropic messages. Anthropic publishes no tokenizer for Claude 3 and later: the text of system,
 * messages, tool definitions and tool calls is estimated ({@link Tokenizer#ESTIMATE}), plus the
 * tool-use system prompt Anthropic documents per model when tools are offered.
 */
final class AnthropicPrompt {

  private AnthropicPrompt() {}

  static PromptCount count(JsonParser p, Tally t, ModelSpec spec) throws IOException {
    OutputBudget output = new OutputBudget();
    JsonNode toolChoice = null;
    boolean tools = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "system" -> {
          if (value == JsonToken.VALUE_STRING) {
            t.text(p.getText());
          } else {
            anthropicBlocks(p.readValueAsTree(), t);
          }
        }
        case "messages" -> {
          if (value != JsonToken.START_ARRAY) {
            p.skipChildren();
            break;
          }
          while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
              p.skipChildren();
              continue;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String key = p.currentName();
              JsonToken v = p.nextToken();
              if (key.equals("content") && v == JsonToken.VALUE_STRING) {
                t.text(p.getText());
              } else if (key.equals("content") && v == JsonToken.START_ARRAY) {
                anthropicBlocks(p.readValueAsTree(), t);
              } else {
                p.skipChildren();
              }
            }
          }
        }
        case "tools" -> {
          JsonNode list = p.readValueAsTree();
          for (JsonNode tool : list) {
            tools = true;
            t.text(tool.path("name").asText(""));
            t.text(tool.path("description").asText(""));
            JsonNode schema = tool.get("input_schema");
            if (schema != null) {
              t.text(schema.toString());
            }
          }
        }
        case "tool_choice" -> toolChoice = p.readValueAsTree();
        case "max_tokens" -> output.preferred(p, field);
        default -> p.skipChildren();
      }
    }
    if (tools) {
      String choice = toolChoice == null ? "auto" : toolChoice.path("type").asText("auto");
      t.fixed(
          choice.equals("any") || choice.equals("tool")
              ? spec.toolPromptAny()
              : spec.toolPromptAuto());
    }
    return output.count(t, -1);
  }

  private static void anthropicBlocks(JsonNode blocks, Tally t) {
    if (blocks.isTextual()) {
      t.text(blocks.asText());
      return;
    }
    if (!blocks.isArray()) {
      return;
    }
    for (JsonNode block : blocks) {
      switch (block.path("type").asText("")) {
        case "text" -> t.text(block.path("text").asText(""));
        case "thinking" -> t.text(block.path("thinking").asText(""));
        case "tool_use", "server_tool_use" -> {
          t.text(block.path("name").asText(""));
          t.text(block.path("input").toString());
        }
        case "tool_result" -> anthropicBlocks(block.path("content"), t);
        default -> {} // image, document, redacted_thinking: not estimated
      }
    }
  }
}
