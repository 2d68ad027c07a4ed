package dev.llmgw.extproc.pii;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.llmgw.extproc.api.LlmApi;
import java.util.Map;

/**
 * The text-bearing fields of each supported request shape, and nothing else: message contents and
 * text parts, system prompts and instructions, tool-call arguments and tool results, prompts and
 * embedding inputs. Structural fields (model, roles, ids, types, tool names and schemas, URLs) are
 * never visited, so masking cannot break a request's meaning.
 */
final class RequestText {

  /** Sees one text and returns its replacement (the same string when unchanged). */
  @FunctionalInterface
  interface Visitor {
    String visit(String text);
  }

  private RequestText() {}

  /** Visits every text field of {@code root}, a request of {@code api}, replacing each with the visitor's result. */
  static void rewrite(LlmApi api, JsonNode root, Visitor visitor) {
    if (!(root instanceof ObjectNode body)) {
      return;
    }
    switch (api) {
      case OPENAI_CHAT_COMPLETIONS -> {
        for (JsonNode message : array(body.get("messages"))) {
          if (message instanceof ObjectNode m) {
            contentField(m, "content", visitor);
            for (JsonNode call : array(m.get("tool_calls"))) {
              textField(call.get("function"), "arguments", visitor);
            }
            textField(m.get("function_call"), "arguments", visitor);
            textField(m, "refusal", visitor);
          }
        }
      }
      case OPENAI_COMPLETIONS -> {
        stringOrStrings(body, "prompt", visitor);
        textField(body, "suffix", visitor);
      }
      case OPENAI_EMBEDDINGS -> stringOrStrings(body, "input", visitor);
      case OPENAI_RESPONSES -> {
        textField(body, "instructions", visitor);
        JsonNode input = body.get("input");
        if (input != null && input.isTextual()) {
          body.set("input", replaced(input, visitor));
        }
        for (JsonNode item : array(input)) {
          if (item instanceof ObjectNode i) {
            contentField(i, "content", visitor);
            textField(i, "arguments", visitor);
            contentField(i, "output", visitor);
          }
        }
      }
      case ANTHROPIC_MESSAGES -> {
        contentField(body, "system", visitor);
        for (JsonNode message : array(body.get("messages"))) {
          if (message instanceof ObjectNode m) {
            contentField(m, "content", visitor);
          }
        }
      }
    }
  }

  /**
   * A content field: a string, or an array of parts whose {@code text} (text parts), {@code input}
   * (Anthropic tool_use: every string inside) or {@code content} (tool results, recursively) carry text.
   */
  private static void contentField(ObjectNode owner, String field, Visitor visitor) {
    JsonNode content = owner.get(field);
    if (content == null) {
      return;
    }
    if (content.isTextual()) {
      owner.set(field, replaced(content, visitor));
      return;
    }
    for (JsonNode part : array(content)) {
      if (part instanceof ObjectNode p) {
        textField(p, "text", visitor);
        JsonNode input = p.get("input");
        if (input != null && input.isContainerNode()) {
          allStrings(input, visitor);
        }
        contentField(p, "content", visitor);
      }
    }
  }

  private static void textField(JsonNode owner, String field, Visitor visitor) {
    if (owner instanceof ObjectNode o) {
      JsonNode value = o.get(field);
      if (value != null && value.isTextual()) {
        o.set(field, replaced(value, visitor));
      }
    }
  }

  private static void stringOrStrings(ObjectNode owner, String field, Visitor visitor) {
    JsonNode value = owner.get(field);
    if (value == null) {
      return;
    }
    if (value.isTextual()) {
      owner.set(field, replaced(value, visitor));
    } else if (value instanceof ArrayNode items) {
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i).isTextual()) {
          items.set(i, replaced(items.get(i), visitor));
        }
      }
    }
  }

  /** Every string value (not key) inside a tool's input object. */
  private static void allStrings(JsonNode node, Visitor visitor) {
    if (node instanceof ObjectNode o) {
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        if (e.getValue().isTextual()) {
          e.setValue(replaced(e.getValue(), visitor));
        } else {
          allStrings(e.getValue(), visitor);
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i).isTextual()) {
          a.set(i, replaced(a.get(i), visitor));
        } else {
          allStrings(a.get(i), visitor);
        }
      }
    }
  }

  private static JsonNode replaced(JsonNode text, Visitor visitor) {
    String before = text.textValue();
    String after = visitor.visit(before);
    return after.equals(before) ? text : TextNode.valueOf(after);
  }

  private static Iterable<JsonNode> array(JsonNode node) {
    return node instanceof ArrayNode a ? a : java.util.List.of();
  }
}
