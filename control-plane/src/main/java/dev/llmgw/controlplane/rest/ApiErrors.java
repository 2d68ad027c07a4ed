package dev.llmgw.controlplane.rest;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;

/** The REST API's error body: {@code {"error": {"type", "message", "field"}}}, field null when none applies. */
final class ApiErrors {

  private ApiErrors() {}

  static void error(Context ctx, HttpStatus status, String type, String field, String message) {
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
