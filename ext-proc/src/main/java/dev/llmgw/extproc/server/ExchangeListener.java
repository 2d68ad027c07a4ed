package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.SseEvent;

/**
 * Extension point for capabilities that watch LLM exchanges (token counting, cost, budgets).
 * Called on the stream's thread, in order; implementations keep per-stream state in their own
 * per-stream object created by {@link #open}, and must be quick: they run on the data path.
 */
public interface ExchangeListener {

  /** Per-stream observer; every method has a no-op default. */
  interface Observer {
    /**
     * The request body as forwarded upstream (after rewrites).
     *
     * @throws RejectException to refuse the request with a client error instead of forwarding it
     */
    default void onRequestBody(byte[] forwarded) {}

    /** One complete SSE event of a streamed response. */
    default void onResponseEvent(SseEvent event) {}

    /** The whole body of a non-streamed (JSON) response, if it fit the inspection limit. */
    default void onResponseBody(byte[] body) {}

    /** The exchange is over (normally or not); release per-stream state. */
    default void onEnd() {}
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
