package dev.llmgw.controlplane.mockprovider;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The error body of each API, as the SDKs parse it: they read the error's type and message from
 * these exact shapes, so a fault test exercises the same code paths a real outage would.
 */
enum ErrorShape {

  /** {@code {"error":{"message","type","param","code"}}}. */
  OPENAI {
    @Override
    ObjectNode body(int status, String message) {
      ObjectNode root = JsonNodeFactory.instance.objectNode();
      ObjectNode error = root.putObject("error");
      error.put("message", message);
      error.put(
          "type",
          status == 429
              ? "rate_limit_error"
              : status >= 500 ? "server_error" : "invalid_request_error");
      error.putNull("param");
      if (status == 429) {
        error.put("code", "rate_limit_exceeded");
      } else if (status == 404) {
        error.put("code", "not_found");
      } else {
        error.putNull("code");
      }
      return root;
    }
  },

  /** {@code {"type":"error","error":{"type","message"}}}. */
  ANTHROPIC {
    @Override
    ObjectNode body(int status, String message) {
      ObjectNode root = JsonNodeFactory.instance.objectNode();
      root.put("type", "error");
      ObjectNode error = root.putObject("error");
      error.put(
          "type",
          switch (status) {
            case 400 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 503, 529 -> "overloaded_error";
            default -> "api_error";
          });
      error.put("message", message);
      return root;
    }
  };

  abstract ObjectNode body(int status, String message);

  /** Anthropic's shape under {@code /v1/messages}, OpenAI's everywhere else. */
  static ErrorShape forPath(String path) {
    return path.startsWith(AnthropicApi.MESSAGES) ? ANTHROPIC : OPENAI;
  }
}
