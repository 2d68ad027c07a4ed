package dev.llmgw.extproc.routing;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites a request body by splicing bytes at offsets {@link RequestBodyInspector} found, so
 * everything but the intended change stays byte-for-byte as the client sent it (number formats,
 * key order, escapes, whitespace).
 */
public final class BodyRewriter {

  private static final byte[] INCLUDE_USAGE =
      ",\"stream_options\":{\"include_usage\":true}".getBytes(StandardCharsets.US_ASCII);

  private BodyRewriter() {}

  /**
   * @param newModel replacement for the model value, or null to keep it
   * @param addIncludeUsage append {@code "stream_options":{"include_usage":true}} (only when the body has no stream_options)
   */
  public static byte[] rewrite(
      byte[] body,
      RequestBodyInspector.Facts facts,
      @Nullable String newModel,
      boolean addIncludeUsage) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 64);
    int pos = 0;
    if (newModel != null) {
      out.write(body, 0, facts.modelStart());
      out.write('"');
      byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(newModel);
      out.write(escaped, 0, escaped.length);
      out.write('"');
      pos = facts.modelEnd();
    }
    if (addIncludeUsage) {
      if (facts.hasStreamOptions()) {
        throw new IllegalArgumentException(
            "addIncludeUsage with existing stream_options (expected: a body without stream_options)");
      }
      out.write(body, pos, facts.closingBraceOffset() - pos);
      out.write(INCLUDE_USAGE, 0, INCLUDE_USAGE.length);
      pos = facts.closingBraceOffset();
    }
    out.write(body, pos, body.length - pos);
    return out.toByteArray();
  }
}
