package dev.llmgw.extproc.tokens;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * How text is turned into a token count for a model: one of OpenAI's public BPE encodings (exact,
 * through jtokkit), or an estimate where the provider publishes no tokenizer.
 *
 * <p>The jtokkit {@link Encoding}s are immutable and thread-safe; each is loaded once per JVM, on
 * first use or by {@link #load()}, and shared by every stream.
 */
public enum Tokenizer {
  /** gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4-mini families. */
  O200K_BASE("o200k_base"),
  /** gpt-4, gpt-3.5-turbo, text-embedding-3-*, text-embedding-ada-002, davinci-002, babbage-002. */
  CL100K_BASE("cl100k_base"),
  /**
   * No public tokenizer (Anthropic Claude): {@value #CHARS_PER_TOKEN} characters (Unicode code
   * points) per token, Anthropic's published rule of thumb. Always labelled an estimate.
   */
  ESTIMATE("estimate");

  /** Characters per token of the estimate: "a token approximately represents 3.5 English characters" (Anthropic glossary). */
  public static final double CHARS_PER_TOKEN = 3.5;

  private final String tag;

  Tokenizer(String tag) {
    this.tag = tag;
  }

  /** The name used in metrics and metadata: {@code o200k_base}, {@code cl100k_base} or {@code estimate}. */
  public String tag() {
    return tag;
  }

  /** Whether counts come from a heuristic rather than the model's own tokenizer. */
  public boolean isEstimate() {
    return this == ESTIMATE;
  }

  /**
   * Tokens of {@code text} as ordinary text: special-token strings such as {@code <|endoftext|>}
   * inside user content are counted as the characters they are, as the OpenAI API does.
   * For {@link #ESTIMATE} this is the estimate for the text on its own.
   */
  public int count(String text) {
    if (text.isEmpty()) {
      return 0;
    }
    return switch (this) {
      case O200K_BASE -> O200k.ENCODING.countTokensOrdinary(text);
      case CL100K_BASE -> Cl100k.ENCODING.countTokensOrdinary(text);
      case ESTIMATE -> estimate(text.codePointCount(0, text.length()));
    };
  }

  /** The estimate for {@code codePoints} characters: {@code ceil(codePoints / 3.5)}. */
  public static int estimate(long codePoints) {
    return (int) Math.min(Integer.MAX_VALUE, (long) Math.ceil(codePoints / CHARS_PER_TOKEN));
  }

  /** Loads the vocabularies now (about a second), so the first request does not pay for it. */
  public static void load() {
    O200k.ENCODING.getName();
    Cl100k.ENCODING.getName();
  }

  /** Lazy holder: an Anthropic-only deployment never loads the 3.6 MB o200k vocabulary. */
  private static final class O200k {
    static final Encoding ENCODING = Registry.REGISTRY.getEncoding(EncodingType.O200K_BASE);
  }

  private static final class Cl100k {
    static final Encoding ENCODING = Registry.REGISTRY.getEncoding(EncodingType.CL100K_BASE);
  }

  private static final class Registry {
    static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
  }
}
