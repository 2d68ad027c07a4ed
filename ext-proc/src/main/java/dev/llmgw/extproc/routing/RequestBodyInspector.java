package dev.llmgw.extproc.routing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.llmgw.extproc.api.ApiError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Reads the few top-level fields routing needs from an LLM request body in one streaming pass,
 * with the byte offsets needed to rewrite them in place, and rejects bodies that are not a
 * well-formed UTF-8 JSON object. Nothing but these fields is materialised.
 */
public final class RequestBodyInspector {

  /** What one pass found. Offsets are byte positions in the body; -1 when absent. */
  public record Facts(
      String model,
      int modelStart,
      int modelEnd,
      @Nullable Boolean stream,
      boolean hasStreamOptions,
      int closingBraceOffset) {}

  /** A body the gateway refuses; carries the error for the client. */
  public static final class BadBodyException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient ApiError error;

    BadBodyException(ApiError error) {
      super(error.message());
      this.error = error;
    }

    public ApiError error() {
      return error;
    }
  }

  private static final JsonFactory JSON = JsonFactory.builder().build();

  private RequestBodyInspector() {}

  public static Facts inspect(byte[] body) throws BadBodyException {
    requireUtf8(body);
    if (body.length == 0) {
      throw bad(
          null,
          "empty_body",
          "request body is empty (expected: a JSON object with a \"model\" field)");
    }
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw bad(
            null,
            "invalid_json",
            "request body is JSON but not an object (expected: a JSON object with a \"model\" field)");
      }
      String model = null;
      int modelStart = -1;
      int modelEnd = -1;
      Boolean stream = null;
      boolean hasStreamOptions = false;
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "model" -> {
            if (value != JsonToken.VALUE_STRING) {
              throw bad(
                  "model",
                  "invalid_model",
                  "\"model\" is " + describe(value) + " (expected: a non-empty string)");
            }
            modelStart = (int) p.currentTokenLocation().getByteOffset();
            model = p.getText();
            modelEnd = (int) p.currentLocation().getByteOffset();
          }
          case "stream" -> {
            if (value == JsonToken.VALUE_TRUE || value == JsonToken.VALUE_FALSE) {
              stream = value == JsonToken.VALUE_TRUE;
            } else if (value != JsonToken.VALUE_NULL) {
              throw bad(
                  "stream",
                  "invalid_stream",
                  "\"stream\" is " + describe(value) + " (expected: true or false)");
            }
            p.skipChildren();
          }
          case "stream_options" -> {
            hasStreamOptions = value != JsonToken.VALUE_NULL;
            p.skipChildren();
          }
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw bad(null, "invalid_json", "request body is not valid JSON (expected: a JSON object)");
      }
      int closing = (int) p.currentTokenLocation().getByteOffset();
      if (p.nextToken() != null) {
        throw bad(
            null,
            "invalid_json",
            "request body has content after the JSON object (expected: exactly one JSON object)");
      }
      if (model == null) {
        throw bad(
            "model",
            "missing_model",
            "request body has no \"model\" field (expected: a non-empty string naming the model)");
      }
      if (model.isBlank()) {
        throw bad(
            "model",
            "invalid_model",
            "\"model\" is empty (expected: a non-empty string naming the model)");
      }
      return new Facts(model, modelStart, modelEnd, stream, hasStreamOptions, closing);
    } catch (JsonParseException e) {
      throw bad(
          null,
          "invalid_json",
          "request body is not valid JSON: " + e.getOriginalMessage() + " at byte "
              + e.getLocation().getByteOffset() + " (expected: a JSON object)");
    } catch (IOException e) {
      throw bad(
          null, "invalid_json", "request body could not be read as JSON (expected: a JSON object)");
    }
  }

  private static void requireUtf8(byte[] body) throws BadBodyException {
    CharsetDecoder decoder = StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body);
    try {
      decoder.decode(in);
    } catch (CharacterCodingException e) {
      throw bad(
          null,
          "invalid_utf8",
          "request body is not valid UTF-8 near byte " + in.position()
              + " (expected: JSON encoded as UTF-8)");
    }
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      case VALUE_STRING -> "a string";
      default -> "not a value";
    };
  }

  private static BadBodyException bad(@Nullable String param, String code, String message) {
    return new BadBodyException(
        new ApiError(400, ApiError.Kind.INVALID_REQUEST, param, code, message));
  }
}
