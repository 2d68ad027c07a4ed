package dev.llmgw.extproc.tokens;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * Renders OpenAI function (tool) definitions the way the model sees them: as a TypeScript
 * {@code namespace functions}, not as the JSON schema the client sent. Its token count plus a fixed
 * overhead is what the definitions add to {@code prompt_tokens}.
 *
 * <p>The rendering and its rules are the reverse-engineered ones published by hmarr/openai-chat-tokens
 * ({@code src/functions.ts}, 0.2.8), whose test table of API-observed counts this class reproduces;
 * OpenAI's cookbook example with tools (105 tokens on cl100k_base, 101 on o200k_base) comes out the same.
 * Schema constructs that rendering does not cover (type unions, {@code $ref}, missing types) are
 * rendered as {@code any} and make the count inexact.
 */
final class FunctionDefinitions {

  private FunctionDefinitions() {}

  /**
   * The {@code namespace functions { ... }} text for {@code functions}, each a function object with
   * {@code name}, optional {@code description} and {@code parameters}.
   */
  static String render(List<JsonNode> functions, Tally tally) {
    StringBuilder out = new StringBuilder(256);
    out.append("namespace functions {\n\n");
    for (JsonNode f : functions) {
      String description = text(f.get("description"));
      if (description != null) {
        out.append("// ").append(description).append('\n');
      }
      String name = f.path("name").asText("");
      JsonNode parameters = f.path("parameters");
      JsonNode properties = parameters.path("properties");
      if (properties.isObject() && properties.size() > 0) {
        out.append("type ").append(name).append(" = (_: {\n");
        out.append(objectProperties(parameters, 0, tally)).append('\n');
        out.append("}) => any;\n");
      } else {
        out.append("type ").append(name).append(" = () => any;\n");
      }
      out.append('\n');
    }
    out.append("} // namespace functions");
    return out.toString();
  }

  /**
   * The properties of an object schema, one entry per property (a description comment first, only
   * at the top two levels), each entry prefixed by {@code indent} spaces and joined by newlines.
   * A nested object's entry spans several lines; only its first line carries the prefix.
   */
  private static String objectProperties(JsonNode object, int indent, Tally tally) {
    JsonNode properties = object.path("properties");
    if (!properties.isObject()) {
      return "";
    }
    JsonNode required = object.path("required");
    String pad = " ".repeat(indent);
    StringJoiner lines = new StringJoiner("\n");
    for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode param = e.getValue();
      String description = text(param.get("description"));
      if (description != null && indent < 2) {
        lines.add(pad + "// " + description);
      }
      String optional = contains(required, e.getKey()) ? ": " : "?: ";
      lines.add(pad + e.getKey() + optional + type(param, indent, tally) + ",");
    }
    return lines.toString();
  }

  private static String type(JsonNode param, int indent, Tally tally) {
    JsonNode anyOf = param.get("anyOf");
    if (anyOf != null && anyOf.isArray()) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < anyOf.size(); i++) {
        if (i > 0) {
          out.append(" | ");
        }
        out.append(type(anyOf.get(i), indent, tally));
      }
      return out.toString();
    }
    JsonNode typeNode = param.get("type");
    String type = typeNode != null && typeNode.isTextual() ? typeNode.asText() : "";
    JsonNode enumNode = param.get("enum");
    switch (type) {
      case "string":
        return enumNode != null && enumNode.isArray() ? union(enumNode, true) : "string";
      case "number":
      case "integer":
        return enumNode != null && enumNode.isArray() ? union(enumNode, false) : "number";
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "object":
        return "{\n" + objectProperties(param, indent + 2, tally) + "\n}";
      case "array":
        JsonNode items = param.get("items");
        return items != null && items.isObject() ? type(items, indent, tally) + "[]" : "any[]";
      default:
        // A type union, $ref, or no type at all: no published rendering.
        tally.inexact();
        return "any";
    }
  }

  private static String union(JsonNode values, boolean quoted) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        out.append(" | ");
      }
      String v = scalar(values.get(i));
      if (quoted) {
        out.append('"').append(v).append('"');
      } else {
        out.append(v);
      }
    }
    return out.toString();
  }

  /** A JSON scalar as JavaScript's template literal prints it ({@code 1.0} prints as {@code 1}). */
  private static String scalar(JsonNode v) {
    if (v.isNumber() && !v.isIntegralNumber()) {
      double d = v.asDouble();
      if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e21) {
        return Long.toString((long) d);
      }
      return Double.toString(d);
    }
    return v.asText();
  }

  private static boolean contains(JsonNode array, String value) {
    if (!array.isArray()) {
      return false;
    }
    for (JsonNode v : array) {
      if (value.equals(v.asText(null))) {
        return true;
      }
    }
    return false;
  }

  /** A non-empty string value (JavaScript truthiness of the reference rendering), else null. */
  private static @Nullable String text(@Nullable JsonNode node) {
    return node != null && node.isTextual() && !node.asText().isEmpty() ? node.asText() : null;
  }
}
