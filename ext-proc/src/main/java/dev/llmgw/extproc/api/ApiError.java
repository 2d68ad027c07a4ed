package dev.llmgw.extproc.api;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jspecify.annotations.Nullable;

/**
 * An error the gateway answers itself, rendered in the error shape of the API the client called,
 * so SDKs raise their usual exception types with our message.
 *
 * <p>OpenAI: {@code {"error":{"message","type","param","code"}}}. Anthropic:
 * {@code {"type":"error","error":{"type","message"}}}.
 *
 * @param status HTTP status
 * @param kind what went wrong, mapped to each API family's error type
 * @param param the request field at fault, or null
 * @param code a stable machine-readable code (OpenAI's {@code code}), or null
 * @param message what was wrong and what was expected; never contains secrets or user content
 */
public record ApiError(
    int status, Kind kind, @Nullable String param, @Nullable String code, String message) {

  /** Error categories with their OpenAI and Anthropic type names. */
  public enum Kind {
    INVALID_REQUEST("invalid_request_error", "invalid_request_error"),
    NOT_FOUND("invalid_request_error", "not_found_error"),
    REQUEST_TOO_LARGE("invalid_request_error", "request_too_large"),
    PERMISSION("permission_error", "permission_error"),
    RATE_LIMIT("rate_limit_error", "rate_limit_error"),
    GATEWAY("api_error", "api_error");

    final String openAiType;
    final String anthropicType;

    Kind(String openAiType, String anthropicType) {
      this.openAiType = openAiType;
      this.anthropicType = anthropicType;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public ApiError {
    requireNonNull(kind, "kind");
    requireNonNull(message, "message");
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 400..599)");
    }
  }

  /** The JSON body in the error shape of the API family {@code family}. */
  public byte[] body(LlmApi.Family family) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + message.length());
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      if (family == LlmApi.Family.ANTHROPIC) {
        g.writeStringField("type", "error");
        g.writeObjectFieldStart("error");
        g.writeStringField("type", kind.anthropicType);
        g.writeStringField("message", message);
        g.writeEndObject();
      } else {
        g.writeObjectFieldStart("error");
        g.writeStringField("message", message);
        g.writeStringField("type", kind.openAiType);
        g.writeStringField("param", param);
        g.writeStringField("code", code);
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
