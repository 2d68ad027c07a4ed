package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.SseEvent;

/**
 * Changes what the client receives of a response (for example restoring values the request had
 * masked). At most one observer of an exchange rewrites its response; the other observers still see
 * the provider's original events and body.
 *
 * <p>Streamed (SSE) responses are rewritten one event at a time, so the client waits at most for the
 * rest of the event in flight plus whatever the rewriter itself holds back. A non-streamed body is
 * rewritten whole, once it has arrived.
 */
public interface ResponseRewriter {

  /**
   * The bytes the client gets in place of one SSE event.
   *
   * @param event the parsed event
   * @param raw the event's bytes as the provider sent them; return them to leave the event unchanged
   * @return the bytes to send now: {@code raw}, a rewritten event, several events, or nothing (held)
   */
  byte[] event(SseEvent event, byte[] raw);

  /**
   * Whatever is still held back, as complete events (may be empty): at the end of an SSE stream, and
   * before an event too large to read goes through unchanged, so held text keeps its place. The
   * rewriter goes on with the events after it.
   */
  byte[] finish();

  /** The bytes the client gets in place of a whole non-streamed body. */
  byte[] body(byte[] body);
}
