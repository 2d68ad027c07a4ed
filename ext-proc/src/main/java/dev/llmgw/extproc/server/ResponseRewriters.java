package dev.llmgw.extproc.server;

import com.google.protobuf.UnsafeByteOperations;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Chains the response rewriters of an exchange in pipeline order: each gets what the previous one
 * made of the response. For a stream, what one rewriter emits is parsed into events again for the
 * next (only between rewriters: with one rewriter nothing is parsed twice).
 */
final class ResponseRewriters {

  private ResponseRewriters() {}

  /** The rewriters as one, or null when there are none. */
  static @Nullable ResponseRewriter chain(List<ResponseRewriter> rewriters, int maxEventBytes) {
    if (rewriters.isEmpty()) {
      return null;
    }
    ResponseRewriter chained = rewriters.get(0);
    for (int i = 1; i < rewriters.size(); i++) {
      chained = new Link(chained, rewriters.get(i), maxEventBytes);
    }
    return chained;
  }

  /** {@code first}, then {@code next} on its output. */
  private static final class Link implements ResponseRewriter {
    private final ResponseRewriter first;
    private final ResponseRewriter next;
    private final SseParser between;

    Link(ResponseRewriter first, ResponseRewriter next, int maxEventBytes) {
      this.first = first;
      this.next = next;
      this.between = new SseParser(maxEventBytes);
    }

    @Override
    public byte[] event(SseEvent event, byte[] raw) {
      return onward(first.event(event, raw), false);
    }

    @Override
    public byte[] finish() {
      return onward(first.finish(), true);
    }

    @Override
    public byte[] body(byte[] body) {
      return next.body(first.body(body));
    }

    private byte[] onward(byte[] emitted, boolean end) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(emitted.length + 64);
      List<SseParser.Segment> segments = emitted.length == 0
          ? new ArrayList<>()
          : between.feedSegments(UnsafeByteOperations.unsafeWrap(emitted));
      for (SseParser.Segment segment : segments) {
        SseEvent e = segment.event();
        out.writeBytes(e == null ? segment.raw() : next.event(e, segment.raw()));
      }
      if (end) {
        out.writeBytes(next.finish());
        out.writeBytes(between.drain());
      }
      return out.toByteArray();
    }
  }
}
