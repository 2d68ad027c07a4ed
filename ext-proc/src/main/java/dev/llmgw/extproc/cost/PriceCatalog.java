package dev.llmgw.extproc.cost;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Model prices in US dollars per million tokens, each with its source and date. The built-in catalog
 * ships in ext-proc ({@code dev/llmgw/extproc/cost/prices.yaml}); operators lay their own prices over
 * it (negotiated rates, models we do not list) with {@link #load} and {@link #overriddenBy}. Every cost
 * carries the catalog's {@link #version()}, so a figure can be traced to the prices that made it.
 *
 * <p>Immutable. Lookups are cached (bounded), so pricing an exchange costs one map read.
 */
public final class PriceCatalog {

  static final String BUILT_IN_RESOURCE = "/dev/llmgw/extproc/cost/prices.yaml";
  /** Cached resolutions; model names from pass-through clients are arbitrary, so the cache is capped. */
  static final int MAX_CACHED = 1024;

  /**
   * {@code -2024-08-06}, {@code -20250929}, {@code -0613}, {@code -latest} at the end of a name: the
   * snapshot rule of {@code tokens.ModelCatalog#find}, so both catalogs resolve a name alike.
   */
  private static final Pattern SNAPSHOT =
      Pattern.compile("-(?:\\d{4}-\\d{2}-\\d{2}|\\d{8}|\\d{4}|latest)$");
  /** Decimals are read from the scalar's text (never through a double); duplicate keys are errors. */
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private static final List<String> TOP_KEYS = List.of("version", "models");
  private static final List<String> RATE_KEYS =
      List.of("input", "cached_input", "cache_write", "output", "reasoning", "cache_write_1h");
  private static final List<String> MODEL_KEYS = List.of(
      "input",
      "cached_input",
      "cache_write",
      "cache_write_1h",
      "output",
      "reasoning",
      "long_context",
      "source",
      "as_of",
      "note");
  private static final List<String> LONG_CONTEXT_KEYS = List.of(
      "above_prompt_tokens",
      "input",
      "cached_input",
      "cache_write",
      "cache_write_1h",
      "output",
      "reasoning");
  private static final String DECIMAL_EXPECTED =
      "expected: a decimal number >= 0 of US dollars per million tokens, such as \"2.50\"";

  private static volatile @Nullable PriceCatalog builtIn;

  private final String version;
  private final Map<String, ModelPrice> prices;
  private final ConcurrentHashMap<String, Optional<ModelPrice>> resolved =
      new ConcurrentHashMap<>();

  private PriceCatalog(String version, Map<String, ModelPrice> prices) {
    this.version = version;
    this.prices = Map.copyOf(prices);
  }

  /** The catalog shipped with ext-proc. */
  public static PriceCatalog builtIn() {
    PriceCatalog c = builtIn;
    if (c == null) {
      try (InputStream in = PriceCatalog.class.getResourceAsStream(BUILT_IN_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(
              "price catalog resource " + BUILT_IN_RESOURCE + " is missing from the classpath");
        }
        c = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "prices.yaml");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      builtIn = c;
    }
    return c;
  }

  /**
   * A catalog of {@code prices} (each validated by {@link ModelPrice} already), identified by
   * {@code version}; combine it with {@code builtIn().overriddenBy(..)}.
   */
  public static PriceCatalog of(String version, Map<String, ModelPrice> prices) {
    requireNonNull(version, "version");
    if (version.isBlank()) {
      throw new IllegalArgumentException(
          "version: '' (expected: a non-empty string such as \"2026-11-22.1\")");
    }
    return new PriceCatalog(version, prices);
  }

  /**
   * A catalog file of the built-in format, on its own; combine it with {@code builtIn().overriddenBy(..)}.
   *
   * @throws IllegalArgumentException if the file does not parse, has a field we do not know or a value
   *     that is not valid; the message names the file, the model and the field
   */
  public static PriceCatalog load(Path file) throws IOException {
    return parse(Files.readString(file), file.toString());
  }

  /**
   * This catalog with {@code operator}'s entries replacing ours model by model (an entry is replaced
   * whole, never merged field by field). The version becomes {@code "<ours>+<theirs>"}.
   */
  public PriceCatalog overriddenBy(PriceCatalog operator) {
    requireNonNull(operator, "operator");
    Map<String, ModelPrice> merged = new LinkedHashMap<>(prices);
    merged.putAll(operator.prices);
    return new PriceCatalog(version + "+" + operator.version, merged);
  }

  /**
   * The price of {@code model}: the entry of that exact name, else of the name without its snapshot
   * suffix ({@code gpt-4o-2024-08-06} → {@code gpt-4o}, {@code claude-sonnet-4-5-20250929} →
   * {@code claude-sonnet-4-5}). Nothing looser: a wrong price is worse than none, and a name that merely
   * starts like a listed one ({@code o3-pro}, {@code claude-opus-4-5}) is often priced differently.
   */
  public Optional<ModelPrice> find(String model) {
    requireNonNull(model, "model");
    Optional<ModelPrice> cached = resolved.get(model);
    if (cached != null) {
      return cached;
    }
    Optional<ModelPrice> price = lookup(model);
    if (resolved.size() < MAX_CACHED) {
      resolved.putIfAbsent(model, price);
    }
    return price;
  }

  /** Identifies the prices, e.g. {@code "2026-11-22.1"} or {@code "2026-11-22.1+acme-3"} with an operator's file. */
  public String version() {
    return version;
  }

  /** Every entry, by model name. */
  Map<String, ModelPrice> prices() {
    return prices;
  }

  private Optional<ModelPrice> lookup(String model) {
    ModelPrice price = prices.get(model);
    if (price == null) {
      Matcher m = SNAPSHOT.matcher(model);
      if (m.find()) {
        price = prices.get(model.substring(0, m.start()));
      }
    }
    return Optional.ofNullable(price);
  }

  // ---------------------------------------------------------------- parsing

  /** Parses a catalog document (YAML or JSON); {@code sourceName} prefixes every error message. */
  public static PriceCatalog parse(String document, String sourceName) {
    requireNonNull(document, "document");
    requireNonNull(sourceName, "sourceName");
    JsonNode root;
    try {
      root = YAML.readTree(document);
    } catch (IOException e) {
      throw new IllegalArgumentException(sourceName + ": not valid YAML: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(sourceName + ": expected a mapping with keys " + TOP_KEYS);
    }
    checkKeys(root, TOP_KEYS, sourceName);
    JsonNode versionNode = root.path("version");
    if (!versionNode.isTextual() || versionNode.asText().isBlank()) {
      throw new IllegalArgumentException(sourceName + ": version: " + describe(versionNode)
          + " (expected: a non-empty string such as \"2026-11-22.1\")");
    }
    JsonNode models = root.path("models");
    if (!models.isObject()) {
      throw new IllegalArgumentException(sourceName + ": models: " + describe(models)
          + " (expected: a mapping of model name to prices)");
    }
    Map<String, ModelPrice> prices = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = models.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      prices.put(
          e.getKey(), modelPrice(e.getKey(), e.getValue(), sourceName + ": models." + e.getKey()));
    }
    return new PriceCatalog(versionNode.asText(), prices);
  }

  private static ModelPrice modelPrice(String name, JsonNode m, String where) {
    if (!m.isObject()) {
      throw new IllegalArgumentException(
          where + ": " + describe(m) + " (expected: a mapping with keys " + MODEL_KEYS + ")");
    }
    checkKeys(m, MODEL_KEYS, where);
    ModelPrice.LongContext longContext = null;
    JsonNode lc = m.path("long_context");
    if (!lc.isMissingNode()) {
      String lcWhere = where + ".long_context";
      if (!lc.isObject()) {
        throw new IllegalArgumentException(lcWhere + ": " + describe(lc)
            + " (expected: a mapping with keys " + LONG_CONTEXT_KEYS + ")");
      }
      checkKeys(lc, LONG_CONTEXT_KEYS, lcWhere);
      JsonNode above = lc.path("above_prompt_tokens");
      if (!above.isIntegralNumber() || !above.canConvertToInt() || above.asInt() <= 0) {
        throw new IllegalArgumentException(lcWhere + ".above_prompt_tokens: " + describe(above)
            + " (expected: a whole number of prompt tokens > 0, such as 200000)");
      }
      BigDecimal[] r = rates(lc, lcWhere);
      longContext = new ModelPrice.LongContext(above.asInt(), r[0], r[1], r[2], r[5], r[3], r[4]);
    }
    BigDecimal[] r = rates(m, where);
    String source = text(
        m.path("source"),
        where + ".source",
        "expected: where the prices come from, such as the provider's pricing page URL");
    LocalDate asOf = date(m.path("as_of"), where + ".as_of");
    JsonNode note = m.path("note");
    if (!note.isMissingNode() && !note.isTextual()) {
      throw new IllegalArgumentException(
          where + ".note: " + describe(note) + " (expected: a string)");
    }
    return new ModelPrice(
        name, r[0], r[1], r[2], r[5], r[3], r[4], longContext, source, asOf, note.asText(""));
  }

  /** input, cached_input, cache_write, output, reasoning, cache_write_1h; input required. */
  private static BigDecimal[] rates(JsonNode node, String where) {
    BigDecimal[] r = new BigDecimal[RATE_KEYS.size()];
    for (int i = 0; i < r.length; i++) {
      String key = RATE_KEYS.get(i);
      JsonNode v = node.path(key);
      if (v.isMissingNode()) {
        if (i == 0) {
          throw new IllegalArgumentException(
              where + "." + key + ": missing (" + DECIMAL_EXPECTED + ")");
        }
        continue;
      }
      r[i] = decimal(v, where + "." + key);
    }
    return r;
  }

  /** A decimal from a quoted string or a plain scalar; both are read from their text, exactly. */
  private static BigDecimal decimal(JsonNode v, String where) {
    BigDecimal d;
    if (v.isTextual()) {
      try {
        d = new BigDecimal(v.asText().trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            where + ": '" + v.asText() + "' (" + DECIMAL_EXPECTED + ")");
      }
    } else if (v.isBigDecimal() || v.isIntegralNumber()) {
      d = v.decimalValue();
    } else {
      throw new IllegalArgumentException(
          where + ": " + describe(v) + " (" + DECIMAL_EXPECTED + ")");
    }
    ModelPrice.checkRate(d, where);
    return d;
  }

  private static String text(JsonNode v, String where, String expected) {
    if (!v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException(where + ": " + describe(v) + " (" + expected + ")");
    }
    return v.asText();
  }

  private static LocalDate date(JsonNode v, String where) {
    String expected = "expected: the date the prices were read, yyyy-MM-dd";
    String s = text(v, where, expected);
    try {
      return LocalDate.parse(s);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(where + ": '" + s + "' (" + expected + ")");
    }
  }

  private static void checkKeys(JsonNode node, List<String> allowed, String where) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException(
            where + ": unknown field '" + k + "' (expected one of " + allowed + ")");
      }
    }
  }

  private static String describe(JsonNode v) {
    if (v.isMissingNode()) {
      return "missing";
    }
    return v.isTextual() ? "'" + v.asText() + "'" : v.toString();
  }
}
