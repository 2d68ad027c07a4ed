package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A piece of body that left Envoy (to upstream, or to the client), with the index of the last source
 * chunk Envoy had received when it was released. Source chunks are the client's request chunks on the
 * request path and the upstream's response chunks on the response path; {@code -1} means "before any
 * body chunk arrived" (for example a body a CONTINUE_AND_REPLACE headers reply supplied).
 *
 * <p>This is what lets a test prove there is no hold-back: with a processor that streams, chunk
 * {@code i} of the output is released after source chunk {@code i}, not after the last one.
 */
public record ReleasedChunk(ByteString data, int afterSourceChunk) {

  public ReleasedChunk {
    requireNonNull(data, "data");
    if (afterSourceChunk < -1) {
      throw new IllegalArgumentException(
          "afterSourceChunk: " + afterSourceChunk + " (expected: >= -1)");
    }
  }

  public String utf8() {
    return data.toString(StandardCharsets.UTF_8);
  }

  static ByteString concat(List<ReleasedChunk> chunks) {
    ByteString all = ByteString.EMPTY;
    for (ReleasedChunk c : chunks) {
      all = all.concat(c.data());
    }
    return all;
  }
}
