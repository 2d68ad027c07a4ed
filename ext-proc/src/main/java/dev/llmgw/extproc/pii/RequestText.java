package dev.llmgw.extproc.pii;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.LlmRequest;
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

  /**
   * Visits every text field of {@code request}, a request of {@code api}, replacing each with the
   * visitor's result (in the tree, and spliced into the bytes forwarded).
   */
  static void rewrite(LlmApi api, LlmRequest request, Visitor visitor) {
    ObjectNode body = request.root();
    Replacer replacer = node -> request.replaceText(node, visitor.visit(node.textValue()));
    switch (api) {
      case OPENAI_CHAT_COMPLETIONS -> {
        for (JsonNode message : array(body.get("messages"))) {
          if (message instanceof ObjectNode m) {
            contentField(m, "content", replacer);
            for (JsonNode call : array(m.get("tool_calls"))) {
              textField(call.get("function"), "arguments", replacer);
            }
            textField(m.get("function_call"), "arguments", replacer);
            textField(m, "refusal", replacer);
          }
        }
      }
      case OPENAI_COMPLETIONS -> {
        stringOrStrings(body, "prompt", replacer);
        textField(body, "suffix", replacer);
      }
      case OPENAI_EMBEDDINGS -> stringOrStrings(body, "input", replacer);
      case OPENAI_RESPONSES -> {
        textField(body, "instructions", replacer);
        JsonNode input = body.get("input");
        if (input != null && input.isTextual()) {
          body.set("input", replacer.replaced(input));
        }
        for (JsonNode item : array(input)) {
          if (item instanceof ObjectNode i) {
            contentField(i, "content", replacer);
            textField(i, "arguments", replacer);
            contentField(i, "output", replacer);
          }
        }
      }
      case ANTHROPIC_MESSAGES -> {
        contentField(body, "system", replacer);
        for (JsonNode message : array(body.get("messages"))) {
          if (message instanceof ObjectNode m) {
            contentField(m, "content", replacer);
          }
        }
      }
    }
  }

  /**
   * A content field: a string, or an array of parts whose {@code text} (text parts), {@code input}
   * (Anthropic tool_use: every string inside) or {@code content} (tool results, recursively) carry text.
   */
  private static void contentField(ObjectNode owner, String field, Replacer visitor) {
    JsonNode content = owner.get(field);
    if (content == null) {
      return;
    }
    if (content.isTextual()) {
      owner.set(field, visitor.replaced(content));
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

  private static void textField(JsonNode owner, String field, Replacer visitor) {
    if (owner instanceof ObjectNode o) {
      JsonNode value = o.get(field);
      if (value != null && value.isTextual()) {
        o.set(field, visitor.replaced(value));
      }
    }
  }

  private static void stringOrStrings(ObjectNode owner, String field, Replacer visitor) {
    JsonNode value = owner.get(field);
    if (value == null) {
      return;
    }
    if (value.isTextual()) {
      owner.set(field, visitor.replaced(value));
    } else if (value instanceof ArrayNode items) {
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i).isTextual()) {
          items.set(i, visitor.replaced(items.get(i)));
        }
      }
    }
  }

  /** Every string value (not key) inside a tool's input object. */
  private static void allStrings(JsonNode node, Replacer visitor) {
    if (node instanceof ObjectNode o) {
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        if (e.getValue().isTextual()) {
          e.setValue(visitor.replaced(e.getValue()));
        } else {
          allStrings(e.getValue(), visitor);
        }
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        if (a.get(i).isTextual()) {
          a.set(i, visitor.replaced(a.get(i)));
        } else {
          allStrings(a.get(i), visitor);
        }
      }
    }
  }

  /** Replaces one string value, returning the node to put in its place. */
  @FunctionalInterface
  private interface Replacer {
    JsonNode replaced(JsonNode text);
  }

  private static Iterable<JsonNode> array(JsonNode node) {
    return node instanceof ArrayNode a ? a : java.util.List.of();
  }
}
