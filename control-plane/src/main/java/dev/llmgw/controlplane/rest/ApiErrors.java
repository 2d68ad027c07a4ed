package dev.llmgw.controlplane.rest;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import org.jspecify.annotations.Nullable;

/** The REST API's error body: {@code {"error": {"type", "message", "field"}}}, field null when none applies. */
final class ApiErrors {

  private ApiErrors() {}

  /**
   * Answers with the error body.
   *
   * @param field the request field that was wrong, or null when none applies
   * @param message what was wrong and what was expected; null (rendered as JSON null) only when the
   *     exception it came from carried no message
   */
  static void error(
      Context ctx,
      HttpStatus status,
      String type,
      @Nullable String field,
      @Nullable String message) {
    ObjectNode err = JsonNodeFactory.instance.objectNode();
    ObjectNode e = err.putObject("error");
    e.put("type", type);
    e.put("message", message);
    if (field == null) {
      e.putNull("field");
    } else {
      e.put("field", field);
    }
    ctx.status(status).json(err);
  }
}
