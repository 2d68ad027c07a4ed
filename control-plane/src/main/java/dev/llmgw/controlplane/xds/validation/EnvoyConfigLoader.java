package dev.llmgw.controlplane.xds.validation;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Internal;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads Envoy configuration written as YAML or JSON (a bootstrap, or a listener, cluster, ... as in
 * Envoy's docs: snake_case field names, {@code "@type"} in Any fields, durations like {@code
 * "0.25s"}) into Envoy's proto types, as strictly as Envoy does: an unknown field, an unknown
 * {@code @type}, a value of the wrong kind or a duplicated key is an error naming the source.
 *
 * <p>Parsing checks the schema only; pass the result to {@link EnvoyValidator} for Envoy's rules.
 *
 * <pre>{@code
 * Bootstrap bootstrap = new EnvoyConfigLoader().load(Path.of("envoy/envoy.yaml"), Bootstrap.class);
 * }</pre>
 */
public final class EnvoyConfigLoader {

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Null: resolve each document's {@code "@type"} values through {@link EnvoyTypes}. */
  private final JsonFormat.@Nullable TypeRegistry fixedRegistry;

  /**
   * A loader that knows every type of Envoy's API. Each document's {@code "@type"} values are
   * looked up in {@link EnvoyTypes} one by one, so only the types a document uses are loaded.
   */
  public EnvoyConfigLoader() {
    this.fixedRegistry = null;
  }

  /** A loader resolving {@code "@type"} against {@code registry} only. */
  public EnvoyConfigLoader(JsonFormat.TypeRegistry registry) {
    this.fixedRegistry = requireNonNull(registry, "registry");
  }

  /**
   * Reads a YAML or JSON file (UTF-8) as {@code type}.
   *
   * @throws EnvoyConfigException if the file cannot be read or is not a valid {@code type}
   */
  public <T extends Message> T load(Path file, Class<T> type) {
    requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file, UTF_8);
    } catch (IOException e) {
      throw new EnvoyConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(text, type, file.toString());
  }

  /**
   * Reads YAML or JSON text as {@code type}.
   *
   * @param source where the text came from, used in error messages (a file name, "request body")
   * @throws EnvoyConfigException if the text is not a valid {@code type}
   */
  public <T extends Message> T parse(String text, Class<T> type, String source) {
    requireNonNull(text, "text");
    requireNonNull(type, "type");
    requireNonNull(source, "source");
    Message prototype = Internal.getDefaultInstance(type);
    String typeName = prototype.getDescriptorForType().getFullName();
    JsonNode tree = readTree(text, source);
    Map<String, String> unknownTypes = new LinkedHashMap<>();
    JsonFormat.TypeRegistry registry =
        fixedRegistry != null ? fixedRegistry : registryFor(tree, unknownTypes);
    Message.Builder builder = prototype.newBuilderForType();
    try {
      // Never ignoringUnknownFields(): Envoy rejects unknown fields, and so must we.
      JsonFormat.parser().usingTypeRegistry(registry).merge(json(tree), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new EnvoyConfigException(
          source + ": not a valid " + typeName + ": " + describe(e, unknownTypes), e);
    } catch (RuntimeException e) {
      // JsonFormat reports some malformed values (for example bad durations) unchecked.
      throw new EnvoyConfigException(
          source + ": not a valid " + typeName + ": " + e.getMessage(), e);
    }
    return type.cast(builder.build());
  }

  private static String describe(InvalidProtocolBufferException e, Map<String, String> unknown) {
    String message = String.valueOf(e.getMessage());
    String prefix = "Cannot resolve type: ";
    if (!message.startsWith(prefix)) {
      return message;
    }
    String typeUrl = message.substring(prefix.length()).strip();
    String path = unknown.get(typeUrl);
    return "unknown \"@type\" "
        + typeUrl
        + (path == null ? "" : " at " + path)
        + "; expected a type from Envoy's v3 API (type.googleapis.com/envoy....)";
  }

  /**
   * A registry of the types the document's {@code "@type"} values name. Unknown ones are noted with
   * their path: JsonFormat fails on them if they sit in an Any, but not if a Struct (such as
   * metadata) merely holds a key called "@type".
   */
  private static JsonFormat.TypeRegistry registryFor(JsonNode tree, Map<String, String> unknown) {
    Map<String, String> typeUrls = new LinkedHashMap<>();
    collectTypeUrls(tree, "", typeUrls);
    JsonFormat.TypeRegistry.Builder builder = JsonFormat.TypeRegistry.newBuilder();
    typeUrls.forEach((typeUrl, path) -> EnvoyTypes.descriptor(typeUrl)
        .ifPresentOrElse(builder::add, () -> unknown.putIfAbsent(typeUrl, path)));
    return builder.build();
  }

  private static void collectTypeUrls(JsonNode node, String path, Map<String, String> into) {
    if (node.isObject()) {
      JsonNode type = node.get("@type");
      if (type != null && type.isTextual()) {
        into.putIfAbsent(type.asText(), path.isEmpty() ? "@type" : path + ".@type");
      }
      node.fields()
          .forEachRemaining(field -> collectTypeUrls(
              field.getValue(),
              path.isEmpty() ? field.getKey() : path + "." + field.getKey(),
              into));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        collectTypeUrls(node.get(i), path + "[" + i + "]", into);
      }
    }
  }

  private static String json(JsonNode tree) {
    try {
      return JSON.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed JSON tree could not be written back", e);
    }
  }

  /** YAML (or JSON) text as a tree, rejecting duplicate keys and extra documents. */
  private static JsonNode readTree(String text, String source) {
    boolean json = text.stripLeading().startsWith("{");
    ObjectMapper mapper = json ? JSON : YAML;
    try (JsonParser p = mapper.createParser(text)) {
      JsonNode tree = mapper.readTree(p);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new EnvoyConfigException(
            source + ": is empty; expected a " + (json ? "JSON" : "YAML") + " object", null);
      }
      if (!tree.isObject()) {
        throw new EnvoyConfigException(
            source
                + ": top level is a "
                + tree.getNodeType().name().toLowerCase(Locale.ROOT)
                + "; expected an object",
            null);
      }
      JsonToken next = p.nextToken();
      if (next != null) {
        throw new EnvoyConfigException(
            source
                + ": holds more than one "
                + (json ? "JSON value" : "YAML document")
                + "; expected exactly one",
            null);
      }
      return tree;
    } catch (JsonProcessingException e) {
      throw new EnvoyConfigException(
          source
              + where(e.getLocation())
              + ": malformed "
              + (json ? "JSON" : "YAML")
              + ": "
              + firstLine(e.getOriginalMessage()),
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The parser's own message, without the quoted source line that may hold a secret. */
  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("").strip();
  }

  private static String where(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " line " + location.getLineNr() + ", column " + location.getColumnNr();
  }
}
