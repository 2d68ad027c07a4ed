package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.api.SseEvent;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A stage of the exchange pipeline (PII protection, token counting, cost, budgets). Stages run on
 * the stream's thread, in the {@link Pipeline}'s order; each keeps per-stream state in its own
 * per-stream object created by {@link #open}, and must be quick: they run on the data path. A stage
 * hands values to later stages as typed {@link Fact}s, declared in {@link #needs} and
 * {@link #produces} so that a wrongly ordered pipeline refuses to start.
 */
public interface ExchangeListener {

  /** Per-stream observer; every method has a no-op default. */
  interface Observer {
    /**
     * The rewriter for this exchange's response, or null to let it through unchanged. Asked once, when
     * the response headers arrive. Rewriters chain in pipeline order: each gets what the previous
     * one made of the response.
     */
    default @Nullable ResponseRewriter responseRewriter() {
      return null;
    }

    /**
     * The request, parsed once for every stage. A stage reads it, may change it (through {@link
     * LlmRequest}'s methods: what it changes is spliced into the bytes forwarded), and decides: return
     * null to go on, throw {@link RejectException} to refuse it with an error in the caller's shape,
     * or return an {@link Answer} to answer it itself (later stages are then not asked, and nothing
     * is forwarded).
     *
     * <p>When a later stage {@linkplain StreamContext#retarget retargets} the exchange, the stages
     * before it whose decisions depend on the model or route are opened again for the new target and
     * asked again, on the request as the client sent it.
     *
     * @throws RejectException to refuse the request with a client error instead of forwarding it
     */
    default @Nullable Answer onRequest(LlmRequest request) {
      return null;
    }

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

    /**
     * The response's last body chunk went by (after the last event, or the whole body): settle what
     * the exchange turned out to be (usage, cost, spend), in stage order, before any stage is asked
     * for its {@link #responseMetadata}. Only called when the response body was watched.
     */
    default void onResponseEnd() {}

    /** The exchange is over (normally or not); release per-stream state. */
    default void onEnd() {}

    /**
     * Entries this observer adds to the exchange's dynamic metadata (namespace {@code llmgw}) in the
     * request-body answer, so the access log can carry them; asked once, after {@link #onRequest}.
     * Values are {@link String}, {@link Boolean} or {@link Number}.
     */
    default Map<String, Object> requestMetadata() {
      return Map.of();
    }

    /**
     * Entries added to the dynamic metadata in the answer to the response's last body chunk, after
     * the last event or the whole body was delivered: what the exchange turned out to be (for example
     * the usage the provider reported). Only asked when the response body was watched, after every
     * stage's {@link #onResponseEnd}; it reports what those settled and does no work of its own.
     */
    default Map<String, Object> responseMetadata() {
      return Map.of();
    }
  }

  /** The stage's name, for startup errors and logs. */
  default String name() {
    return getClass().getSimpleName();
  }

  /** Facts this stage reads; each must be produced by a stage before it. */
  default Set<Fact<?>> needs() {
    return Set.of();
  }

  /** Facts this stage puts into every exchange's context (possibly not for every exchange). */
  default Set<Fact<?>> produces() {
    return Set.of();
  }

  /**
   * Called once per LLM exchange after the request body was accepted.
   *
   * @throws RejectException to refuse the request with a client error instead of forwarding it
   */
  Observer open(StreamContext context);

  /**
   * Whether the stage's decisions depend on the exchange's target (model and route), so that it is
   * asked again when a later stage retargets the exchange.
   */
  default boolean dependsOnTarget() {
    return true;
  }

  /** Whether response bodies must be streamed to ext-proc for this exchange. */
  default boolean wantsResponseBody(StreamContext context) {
    return false;
  }
}
