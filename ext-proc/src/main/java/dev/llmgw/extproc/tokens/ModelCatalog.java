package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.llmgw.extproc.api.LlmApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Models the gateway knows: tokenizer, context window, maximum output. Built from the catalog file
 * shipped in ext-proc ({@code dev/llmgw/extproc/tokens/models.yaml}, with the source and date of
 * every value), optionally overlaid with an operator's file of the same format.
 *
 * <p>Lookups are cached (bounded), so the data path resolves a model name with one map read.
 */
public final class ModelCatalog {

  static final String BUILT_IN_RESOURCE = "/dev/llmgw/extproc/tokens/models.yaml";
  /** Cached resolutions; model names from pass-through clients are arbitrary, so the cache is capped. */
  static final int MAX_CACHED = 1024;

  /** {@code -2024-08-06}, {@code -20250929}, {@code -0613}, {@code -latest} at the end of a model name. */
  private static final Pattern SNAPSHOT =
      Pattern.compile("-(?:\\d{4}-\\d{2}-\\d{2}|\\d{8}|\\d{4}|latest)$");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP_KEYS = Set.of("as_of", "estimate", "tokenizers", "models");
  private static final Set<String> MODEL_KEYS = Set.of(
      "tokenizer",
      "context_window",
      "max_output",
      "reasoning",
      "tool_prompt_tokens",
      "source",
      "note");

  private static volatile @Nullable ModelCatalog builtIn;

  private final Map<String, ModelSpec> models;
  private final Map<String, Tokenizer> tokenizerByModel;
  private final Map<String, Tokenizer> tokenizerByPrefix;
  private final double estimateRejectMargin;
  private final String asOf;
  private final ConcurrentHashMap<String, ModelSpec> resolved = new ConcurrentHashMap<>();

  private ModelCatalog(
      Map<String, ModelSpec> models,
      Map<String, Tokenizer> tokenizerByModel,
      Map<String, Tokenizer> tokenizerByPrefix,
      double estimateRejectMargin,
      String asOf) {
    this.models = Map.copyOf(models);
    this.tokenizerByModel = Map.copyOf(tokenizerByModel);
    this.tokenizerByPrefix =
        Collections.unmodifiableMap(new LinkedHashMap<>(tokenizerByPrefix)); // order matters
    this.estimateRejectMargin = estimateRejectMargin;
    this.asOf = asOf;
  }

  /** The catalog shipped with ext-proc. */
  public static ModelCatalog builtIn() {
    ModelCatalog c = builtIn;
    if (c == null) {
      try (InputStream in = ModelCatalog.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(
              "model catalog resource " + BUILT_IN_RESOURCE + " is missing from the classpath");
        }
        c = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), BUILT_IN_RESOURCE, null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      builtIn = c;
    }
    return c;
  }

  /**
   * The built-in catalog with an operator's file laid over it: its {@code models} entries replace or
   * add to ours, its {@code tokenizers} mappings add to ours, its {@code estimate} settings win.
   *
   * @throws IllegalArgumentException if the file does not parse or a value is invalid; the message names the field
   */
  public static ModelCatalog load(Path file) throws IOException {
    return parse(Files.readString(file), file.toString(), builtIn());
  }

  /** Parses a catalog document (YAML or JSON); {@code base} supplies what the document does not set. */
  public static ModelCatalog parse(
      String document, String sourceName, @Nullable ModelCatalog base) {
    requireNonNull(document, "document");
    JsonNode root;
    try {
      root = YAML.readTree(document);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          sourceName + ": not valid YAML/JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(sourceName + ": expected a mapping with keys " + TOP_KEYS);
    }
    checkKeys(root, TOP_KEYS, sourceName);
    Map<String, Tokenizer> byModel =
        new LinkedHashMap<>(base == null ? Map.of() : base.tokenizerByModel);
    Map<String, Tokenizer> byPrefix =
        new LinkedHashMap<>(base == null ? Map.of() : base.tokenizerByPrefix);
    JsonNode tokenizers = root.path("tokenizers");
    if (!tokenizers.isMissingNode()) {
      checkKeys(tokenizers, Set.of("source", "models", "prefixes"), sourceName + ": tokenizers");
      readTokenizerMap(tokenizers.path("models"), byModel, sourceName + ": tokenizers.models");
      readTokenizerMap(tokenizers.path("prefixes"), byPrefix, sourceName + ": tokenizers.prefixes");
    }
    double margin = base == null ? 0.25 : base.estimateRejectMargin;
    JsonNode estimate = root.path("estimate");
    if (!estimate.isMissingNode()) {
      checkKeys(estimate, Set.of("reject_margin"), sourceName + ": estimate");
      JsonNode m = estimate.path("reject_margin");
      if (!m.isMissingNode()) {
        if (!m.isNumber() || m.asDouble() < 0 || m.asDouble() >= 1) {
          throw new IllegalArgumentException(
              sourceName + ": estimate.reject_margin: " + m + " (expected: a number in [0, 1))");
        }
        margin = m.asDouble();
      }
    }
    Map<String, ModelSpec> models = new LinkedHashMap<>(base == null ? Map.of() : base.models);
    JsonNode list = root.path("models");
    if (!list.isMissingNode() && !list.isObject()) {
      throw new IllegalArgumentException(
          sourceName + ": models: expected a mapping of model name to limits");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = list.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      String where = sourceName + ": models." + name;
      JsonNode m = e.getValue();
      if (!m.isObject()) {
        throw new IllegalArgumentException(where + ": expected a mapping with keys " + MODEL_KEYS);
      }
      checkKeys(m, MODEL_KEYS, where);
      Tokenizer tokenizer = m.has("tokenizer")
          ? tokenizer(m.get("tokenizer"), where + ".tokenizer")
          : mapped(name, byModel, byPrefix);
      if (tokenizer == null) {
        throw new IllegalArgumentException(
            where + ": no tokenizer given and none mapped by tokenizers.models/prefixes"
                + " (expected: tokenizer: o200k_base, cl100k_base or estimate)");
      }
      int window = nonNegativeInt(m.path("context_window"), where + ".context_window", true);
      int maxOutput = nonNegativeInt(m.path("max_output"), where + ".max_output", true);
      if (window > 0 && maxOutput > window) {
        throw new IllegalArgumentException(where + ": max_output " + maxOutput
            + " exceeds context_window " + window + " (expected: max_output <= context_window)");
      }
      JsonNode reasoningNode = m.path("reasoning");
      if (!reasoningNode.isMissingNode() && !reasoningNode.isBoolean()) {
        throw new IllegalArgumentException(
            where + ".reasoning: " + reasoningNode + " (expected: true or false)");
      }
      int auto = 0;
      int any = 0;
      JsonNode tools = m.path("tool_prompt_tokens");
      if (!tools.isMissingNode()) {
        checkKeys(tools, Set.of("auto", "any"), where + ".tool_prompt_tokens");
        auto = nonNegativeInt(tools.path("auto"), where + ".tool_prompt_tokens.auto", false);
        any = nonNegativeInt(tools.path("any"), where + ".tool_prompt_tokens.any", false);
      }
      models.put(
          name,
          new ModelSpec(
              name,
              tokenizer,
              true,
              window,
              maxOutput,
              reasoningNode.asBoolean(false),
              auto,
              any,
              true));
    }
    String asOf = root.path("as_of").asText(base == null ? "" : base.asOf);
    return new ModelCatalog(models, byModel, byPrefix, margin, asOf);
  }

  /**
   * What the gateway knows about {@code model} as called through an API of {@code family}. Never
   * null: unlisted models get the tokenizer tiktoken's rules map them to, {@link Tokenizer#ESTIMATE}
   * for Anthropic, or o200k_base (marked uncertain) for any other OpenAI-style model.
   */
  public ModelSpec resolve(String model, LlmApi.Family family) {
    requireNonNull(model, "model");
    String key = family == LlmApi.Family.ANTHROPIC ? "a:" + model : model;
    ModelSpec cached = resolved.get(key);
    if (cached != null) {
      return cached;
    }
    ModelSpec spec = lookup(model, family);
    if (resolved.size() < MAX_CACHED) {
      resolved.putIfAbsent(key, spec);
    }
    return spec;
  }

  /** The listed entry for {@code model} (exact, fine-tune base or snapshot-less name), if any. */
  public Optional<ModelSpec> find(String model) {
    String base = fineTuneBase(model);
    ModelSpec spec = models.get(base);
    if (spec == null) {
      Matcher m = SNAPSHOT.matcher(base);
      if (m.find()) {
        spec = models.get(base.substring(0, m.start()));
      }
    }
    return Optional.ofNullable(spec);
  }

  /** Fraction below an estimated prompt count that must still not fit before a request is refused. */
  public double estimateRejectMargin() {
    return estimateRejectMargin;
  }

  /** When the providers published the limits the catalog transcribes ({@code as_of}, e.g. "2025-11"). */
  public String asOf() {
    return asOf;
  }

  /** Every listed model, by name. */
  public Map<String, ModelSpec> models() {
    return models;
  }

  private ModelSpec lookup(String model, LlmApi.Family family) {
    Optional<ModelSpec> listed = find(model);
    if (listed.isPresent()) {
      return listed.get();
    }
    Tokenizer mapped = mapped(model, tokenizerByModel, tokenizerByPrefix);
    if (mapped != null) {
      return ModelSpec.unlisted(model, mapped, true);
    }
    if (family == LlmApi.Family.ANTHROPIC || model.toLowerCase(Locale.ROOT).startsWith("claude")) {
      return ModelSpec.unlisted(model, Tokenizer.ESTIMATE, true);
    }
    return ModelSpec.unlisted(model, Tokenizer.O200K_BASE, false);
  }

  private static @Nullable Tokenizer mapped(
      String model, Map<String, Tokenizer> byModel, Map<String, Tokenizer> byPrefix) {
    Tokenizer t = byModel.get(model);
    if (t != null) {
      return t;
    }
    for (Map.Entry<String, Tokenizer> e : byPrefix.entrySet()) {
      if (model.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    return null;
  }

  /** {@code ft:gpt-4o-mini-2024-07-18:org::id} → {@code gpt-4o-mini-2024-07-18}. */
  private static String fineTuneBase(String model) {
    if (!model.startsWith("ft:")) {
      return model;
    }
    int end = model.indexOf(':', 3);
    return end < 0 ? model.substring(3) : model.substring(3, end);
  }

  private static void readTokenizerMap(JsonNode node, Map<String, Tokenizer> into, String where) {
    if (node.isMissingNode()) {
      return;
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(
          where + ": expected a mapping of name to o200k_base or cl100k_base");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      into.put(e.getKey(), tokenizer(e.getValue(), where + "." + e.getKey()));
    }
  }

  private static Tokenizer tokenizer(JsonNode node, String where) {
    for (Tokenizer t : Tokenizer.values()) {
      if (t.tag().equals(node.asText())) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        where + ": '" + node.asText() + "' (expected: o200k_base, cl100k_base or estimate)");
  }

  private static int nonNegativeInt(JsonNode node, String where, boolean required) {
    if (node.isMissingNode()) {
      if (required) {
        throw new IllegalArgumentException(
            where + ": missing (expected: a whole number >= 0, 0 for unknown)");
      }
      return 0;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
      throw new IllegalArgumentException(where + ": " + node + " (expected: a whole number >= 0)");
    }
    return node.asInt();
  }

  private static void checkKeys(JsonNode node, Set<String> allowed, String where) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + ": expected a mapping with keys " + allowed);
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException(
            where + ": unknown key '" + k + "' (expected one of " + allowed + ")");
      }
    }
  }
}
