package dev.llmgw.controlplane.mockprovider;

import org.jspecify.annotations.Nullable;

/**
 * What the mock answers one request with: either assistant text or a call to one tool with empty
 * arguments. Both APIs decide the same way and differ only in how they write it.
 *
 * @param text the assistant text; empty for a tool call
 * @param toolName the tool to call, or null for a text answer
 */
record Answer(String text, @Nullable String toolName) {

  /** The arguments of every mock tool call: an empty object, which any schema without required fields accepts. */
  static final String TOOL_ARGUMENTS = "{}";

  static Answer text(String text) {
    return new Answer(text, null);
  }

  static Answer toolCall(String toolName) {
    return new Answer("", toolName);
  }

  boolean isToolCall() {
    return toolName != null;
  }

  /** Output tokens: of the text, or of the tool's name and arguments. */
  int tokens() {
    return Tokens.of(isToolCall() ? toolName + TOOL_ARGUMENTS : text);
  }
}
