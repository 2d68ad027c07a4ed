package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.SseEvent;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Extension point for capabilities that watch LLM exchanges (token counting, cost, budgets).
 * Called on the stream's thread, in order; implementations keep per-stream state in their own
 * per-stream object created by {@link #open}, and must be quick: they run on the data path.
 */
public interface ExchangeListener {

  /** Per-stream observer; every method has a no-op default. */
  interface Observer {
    /**
     * Lets the observer change the request body before it is forwarded (for example to mask
     * personal data). Observers are asked in listener order, each seeing the previous one's result,
     * before their {@link #onRequestBody}; return {@code body} itself to leave it unchanged.
     *
     * @throws RejectException to refuse the request with a client error instead of forwarding it
     */
    default byte[] rewriteRequestBody(byte[] body) {
      return body;
    }

    /**
     * The rewriter for this exchange's response, or null to let it through unchanged. Asked once, when
     * the response headers arrive; only the first observer that returns one rewrites.
     */
    default @Nullable ResponseRewriter responseRewriter() {
      return null;
    }

    /**
     * The request body as forwarded upstream, after every observer's {@link #rewriteRequestBody}.
     *
     * @throws RejectException to refuse the request with a client error instead of forwarding it
     */
    default void onRequestBody(byte[] forwarded) {}

    /** One complete SSE event of a streamed response. */
    default void onResponseEvent(SseEvent event) {}

    /** The whole body of a non-streamed (JSON) response, if it fit the inspection limit. */
    default void onResponseBody(byte[] body) {}

    /**
     * An SSE event too large to inspect went by unread (in one or more parts); the events after it
     * are delivered as usual.
     *
     * @param bytes the bytes of it that went by since the last call
     */
    default void onResponseEventSkipped(long bytes) {}

    /**
     * The end of a non-streamed (JSON) response too large to hold whole, in place of {@link
     * #onResponseBody}: its last bytes (where providers put usage) and its whole size.
     */
    default void onResponseBodyTail(byte[] tail, long totalBytes) {}

    /** The exchange is over (normally or not); release per-stream state. */
    default void onEnd() {}

    /**
     * Entries this observer adds to the exchange's dynamic metadata (namespace {@code llmgw}) in the
     * request-body answer, so the access log can carry them; asked once, after {@link #onRequestBody}.
     * Values are {@link String}, {@link Boolean} or {@link Number}.
     */
    default Map<String, Object> requestMetadata() {
      return Map.of();
    }

    /**
     * Entries added to the dynamic metadata in the answer to the response's last body chunk, after
     * the last event or the whole body was delivered: what the exchange turned out to be (for example
     * the usage the provider reported). Only asked when the response body was watched.
     */
    default Map<String, Object> responseMetadata() {
      return Map.of();
    }
  }

  /**
   * Called once per LLM exchange after the request body was accepted.
   *
   * @throws RejectException to refuse the request with a client error instead of forwarding it
   */
  Observer open(StreamContext context);

  /** Whether response bodies must be streamed to ext-proc for this exchange. */
  default boolean wantsResponseBody(StreamContext context) {
    return false;
  }
}
