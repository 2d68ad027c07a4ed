package dev.llmgw.extproc.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One LLM request body, parsed once for every stage of the exchange: the JSON tree every stage reads,
 * the few top-level fields routing needs, and the byte span of every string value, so that changes
 * (a masked text, another model, an added field) are spliced into the client's bytes instead of
 * writing the whole body again. Whatever no stage changed goes upstream exactly as the client sent
 * it: key order, whitespace, escapes and number formats.
 *
 * <p>The body is refused, with a 400 saying what and where, when it is not UTF-8, not one JSON
 * object, nests deeper than {@link #MAX_DEPTH}, or repeats a key in any object: with duplicate keys
 * the gateway and the provider could each read a different value (the gateway checks one, the
 * provider uses the other), so what goes upstream would not be what was checked.
 *
 * <p>Owned by one stream; not thread-safe.
 */
public final class LlmRequest {

  /** Deepest nesting of objects and arrays accepted; tool schemas need far less. */
  public static final int MAX_DEPTH = 128;

  private static final JsonFactory FACTORY = JsonFactory.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
  private static final ObjectMapper CODEC = new ObjectMapper(FACTORY);

  /** A change to the body: the bytes in [start, end) replaced by {@code bytes}. */
  private record Edit(int start, int end, byte[] bytes) {}

  private final byte[] body;
  private final boolean bomStripped;
  private final ObjectNode root;
  private final Map<JsonNode, Long> spans;
  private final String model;
  private final @Nullable Boolean stream;
  private final boolean hasStreamOptions;
  private final int closingBrace;
  private final TreeMap<Integer, Edit> edits = new TreeMap<>();

  private LlmRequest(
      byte[] body,
      boolean bomStripped,
      ObjectNode root,
      Map<JsonNode, Long> spans,
      String model,
      @Nullable Boolean stream,
      boolean hasStreamOptions,
      int closingBrace) {
    this.body = body;
    this.bomStripped = bomStripped;
    this.root = root;
    this.spans = spans;
    this.model = model;
    this.stream = stream;
    this.hasStreamOptions = hasStreamOptions;
    this.closingBrace = closingBrace;
  }

  /** A request the gateway refuses; carries the error for the client. */
  public static final class BadRequestException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient ApiError error;

    BadRequestException(ApiError error) {
      super(error.message());
      this.error = error;
    }

    public ApiError error() {
      return error;
    }
  }

  /**
   * Parses a request body. A leading UTF-8 byte order mark is dropped (JSON text must not carry one,
   * RFC 8259 section 8.1), so the provider never receives it.
   */
  public static LlmRequest parse(byte[] received) throws BadRequestException {
    boolean bom = received.length >= 3
        && received[0] == (byte) 0xEF
        && received[1] == (byte) 0xBB
        && received[2] == (byte) 0xBF;
    byte[] body = bom ? java.util.Arrays.copyOfRange(received, 3, received.length) : received;
    requireUtf8(body);
    if (body.length == 0) {
      throw bad(
          null,
          "empty_body",
          "request body is empty (expected: a JSON object with a \"model\" field)");
    }
    try (JsonParser p = FACTORY.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw bad(
            null,
            "invalid_json",
            "request body is JSON but not an object (expected: a JSON object with a \"model\" field)");
      }
      TreeReader reader = new TreeReader(p);
      ObjectNode root = reader.object(1);
      int closing = (int) p.currentTokenLocation().getByteOffset();
      if (p.nextToken() != null) {
        throw bad(
            null,
            "invalid_json",
            "request body has content after the JSON object (expected: exactly one JSON object)");
      }
      JsonNode model = root.get("model");
      if (model == null) {
        throw bad(
            "model",
            "missing_model",
            "request body has no \"model\" field (expected: a non-empty string naming the model)");
      }
      if (!model.isTextual()) {
        throw bad(
            "model",
            "invalid_model",
            "\"model\" is " + describe(model) + " (expected: a non-empty string)");
      }
      if (model.textValue().isBlank()) {
        throw bad(
            "model",
            "invalid_model",
            "\"model\" is empty (expected: a non-empty string naming the model)");
      }
      JsonNode stream = root.get("stream");
      if (stream != null && !stream.isBoolean() && !stream.isNull()) {
        throw bad(
            "stream",
            "invalid_stream",
            "\"stream\" is " + describe(stream) + " (expected: true or false)");
      }
      JsonNode options = root.get("stream_options");
      return new LlmRequest(
          body,
          bom,
          root,
          reader.spans,
          model.textValue(),
          stream == null || stream.isNull() ? null : stream.booleanValue(),
          options != null && !options.isNull(),
          closing);
    } catch (JsonProcessingException e) {
      throw bad(
          null,
          "invalid_json",
          "request body is not valid JSON: " + e.getOriginalMessage() + " at byte "
              + (e.getLocation() == null ? -1 : e.getLocation().getByteOffset())
              + " (expected: a JSON object)");
    } catch (IOException e) {
      throw bad(
          null, "invalid_json", "request body could not be read as JSON (expected: a JSON object)");
    }
  }

  /** The request as a tree; stages read it and change it only through this class's methods. */
  public ObjectNode root() {
    return root;
  }

  /** A parser over the tree as it is now, for readers written against a streaming parser. */
  public JsonParser traverse() {
    return root.traverse(CODEC);
  }

  /** The model the client asked for, as written. */
  public String model() {
    return model;
  }

  /** The {@code stream} flag; null when absent or JSON null. */
  public @Nullable Boolean stream() {
    return stream;
  }

  /** Whether the client asked for a streamed (SSE) answer. */
  public boolean streaming() {
    return Boolean.TRUE.equals(stream);
  }

  /** Whether the body has a non-null {@code stream_options}. */
  public boolean hasStreamOptions() {
    return hasStreamOptions;
  }

  /**
   * Replaces one string value of the tree with {@code text}, in the tree and in the bytes that go
   * upstream. Returns the new node, to be put in the old one's place by the caller (which holds its
   * parent); {@code node} itself when the text is unchanged.
   *
   * @throws IllegalArgumentException when {@code node} is not a string value of this request
   */
  public JsonNode replaceText(JsonNode node, String text) {
    Long span = spans.get(node);
    if (span == null) {
      throw new IllegalArgumentException(
          "replaceText: the node is not a string value of this request (expected: a node of root())");
    }
    if (text.equals(node.textValue())) {
      return node;
    }
    TextNode replaced = new TextNode(text);
    spans.put(replaced, span);
    int start = (int) (span >>> 32);
    edits.put(start, new Edit(start, (int) (long) span, quoted(text)));
    return replaced;
  }

  /** Sends {@code newModel} upstream in place of the model the client named. */
  public void setModel(String newModel) {
    JsonNode current = root.get("model");
    root.set("model", replaceText(current, newModel));
  }

  /**
   * Adds a top-level field, written as the compact JSON of {@code value}, after the client's last
   * field.
   *
   * @throws IllegalArgumentException when the body already has the field
   */
  public void addField(String name, JsonNode value) {
    if (root.has(name)) {
      throw new IllegalArgumentException(
          "addField: the request already has \"" + name + "\" (expected: a new field)");
    }
    root.set(name, value);
    byte[] added = ("," + quotedString(name) + ":" + value).getBytes(StandardCharsets.UTF_8);
    Edit previous = edits.get(closingBrace);
    byte[] bytes = previous == null ? added : concat(previous.bytes(), added);
    edits.put(closingBrace, new Edit(closingBrace, closingBrace, bytes));
  }

  /** Whether the bytes going upstream differ from what the client sent. */
  public boolean changed() {
    return bomStripped || !edits.isEmpty();
  }

  /**
   * The body to forward: the client's bytes with every change spliced in; the very array received
   * when nothing changed.
   */
  public byte[] forwarded() {
    if (edits.isEmpty()) {
      return body;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 64 * edits.size());
    int pos = 0;
    for (Edit e : edits.values()) {
      out.write(body, pos, e.start() - pos);
      out.writeBytes(e.bytes());
      pos = e.end();
    }
    out.write(body, pos, body.length - pos);
    return out.toByteArray();
  }

  /** The body as the client sent it, without a byte order mark; shared, never to be modified. */
  public byte[] received() {
    return body;
  }

  /** Builds the tree from the parser, recording where each string value lies in the bytes. */
  private static final class TreeReader {
    private final JsonParser p;
    private final Map<JsonNode, Long> spans = new IdentityHashMap<>();
    /** The path to the value being read: field names and array indexes, for error messages. */
    private final List<Object> path = new ArrayList<>();

    TreeReader(JsonParser p) {
      this.p = p;
    }

    /** Reads an object whose START_OBJECT is the current token. */
    ObjectNode object(int depth) throws IOException, BadRequestException {
      checkDepth(depth);
      ObjectNode object = NODES.objectNode();
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        long at = p.currentTokenLocation().getByteOffset();
        if (object.has(name)) {
          path.add(name);
          throw bad(
              null,
              "duplicate_key",
              "request body repeats the key \"" + name + "\" at " + pointer() + " (byte " + at
                  + ") (expected: each key at most once in an object, so the gateway checks "
                  + "exactly what the provider reads)");
        }
        path.add(name);
        object.set(name, value(p.nextToken(), depth));
        path.remove(path.size() - 1);
      }
      if (t != JsonToken.END_OBJECT) {
        throw bad(null, "invalid_json", "request body is not valid JSON (expected: a JSON object)");
      }
      return object;
    }

    private ArrayNode array(int depth) throws IOException, BadRequestException {
      checkDepth(depth);
      ArrayNode array = NODES.arrayNode();
      JsonToken t;
      int index = 0;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          throw bad(
              null, "invalid_json", "request body is not valid JSON (expected: a JSON object)");
        }
        path.add(index++);
        array.add(value(t, depth));
        path.remove(path.size() - 1);
      }
      return array;
    }

    private JsonNode value(@Nullable JsonToken t, int depth)
        throws IOException, BadRequestException {
      if (t == null) {
        throw bad(null, "invalid_json", "request body is not valid JSON (expected: a JSON object)");
      }
      return switch (t) {
        case START_OBJECT -> object(depth + 1);
        case START_ARRAY -> array(depth + 1);
        case VALUE_STRING -> {
          long start = p.currentTokenLocation().getByteOffset();
          TextNode text = new TextNode(p.getText());
          long end = p.currentLocation().getByteOffset();
          spans.put(text, (start << 32) | end);
          yield text;
        }
        case VALUE_NUMBER_INT ->
          switch (p.getNumberType()) {
            case INT -> NODES.numberNode(p.getIntValue());
            case LONG -> NODES.numberNode(p.getLongValue());
            default -> NODES.numberNode(p.getBigIntegerValue());
          };
        case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDecimalValue());
        case VALUE_TRUE -> NODES.booleanNode(true);
        case VALUE_FALSE -> NODES.booleanNode(false);
        case VALUE_NULL -> NODES.nullNode();
        default ->
          throw bad(null, "invalid_json", "request body is not valid JSON (expected: a value)");
      };
    }

    private void checkDepth(int depth) throws BadRequestException {
      if (depth > MAX_DEPTH) {
        throw bad(
            null,
            "invalid_json",
            "request body nests objects and arrays " + depth + " levels deep at byte "
                + p.currentTokenLocation().getByteOffset() + " (expected: at most " + MAX_DEPTH
                + " levels)");
      }
    }

    /** The current path as a JSON pointer (RFC 6901). */
    private String pointer() {
      StringBuilder b = new StringBuilder();
      for (Object step : path) {
        b.append('/').append(step.toString().replace("~", "~0").replace("/", "~1"));
      }
      return b.length() == 0 ? "/" : b.toString();
    }
  }

  private static byte[] quoted(String text) {
    byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(text);
    byte[] out = new byte[escaped.length + 2];
    out[0] = '"';
    System.arraycopy(escaped, 0, out, 1, escaped.length);
    out[out.length - 1] = '"';
    return out;
  }

  private static String quotedString(String text) {
    return new String(quoted(text), StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static void requireUtf8(byte[] body) throws BadRequestException {
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

  private static String describe(JsonNode node) {
    return switch (node.getNodeType()) {
      case OBJECT, POJO -> "an object";
      case ARRAY -> "an array";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case STRING, BINARY -> "a string";
      case MISSING -> "missing";
    };
  }

  private static BadRequestException bad(@Nullable String param, String code, String message) {
    return new BadRequestException(
        new ApiError(400, ApiError.Kind.INVALID_REQUEST, param, code, message));
  }
}
