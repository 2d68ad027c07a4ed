package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One direction of the exchange — Envoy's {@code DecodingProcessorState} (request) or
 * {@code EncodingProcessorState} (response) from processor_state.h, plus what the filter manager
 * holds for it and what it has forwarded (to upstream, or to the client).
 */
final class DirectionState {

  enum Direction {
    REQUEST,
    RESPONSE
  }

  /** {@code ProcessorState::CallbackState}: which reply Envoy is waiting for in this direction. */
  enum CallbackState {
    IDLE,
    HEADERS,
    BUFFERED_BODY,
    STREAMED_BODY,
    BUFFERED_PARTIAL_BODY,
    TRAILERS
  }

  /** A body chunk sent in STREAMED or BUFFERED_PARTIAL mode, kept until its reply says what to release. */
  record QueuedChunk(ByteString data, boolean endStream) {}

  final Direction direction;

  // Processing mode for this direction (setProcessingModeInternal).
  boolean sendHeaders;
  boolean sendTrailers;
  BodySendMode bodyMode = BodySendMode.NONE;

  CallbackState callback = CallbackState.IDLE;
  /** Envoy's {@code paused_}: the filter returned StopIteration and has not continued yet. */
  boolean paused;

  MutableHeaders headers;
  /** Envoy's {@code headers_ != nullptr}: a reply may still mutate the headers. */
  boolean headersMutable;

  MutableHeaders trailers;
  boolean trailersArrived;
  boolean trailersSentToProcessor;

  /** The filter manager's buffered body ({@code bufferedData()}); null when nothing was ever buffered. */
  ByteString buffered;

  final Deque<QueuedChunk> queue = new ArrayDeque<>();

  boolean noBody;
  boolean completeBodyAvailable;
  boolean bodyReceived;
  boolean bodyReplaced;
  boolean partialBodyProcessed;
  /** Index of the last source body chunk Envoy received in this direction; -1 before the first. */
  int sourceIndex = -1;
  /** Replies handled for this direction; lets the driver notice the processor answered. */
  int repliesHandled;

  // The message timer of this direction (ProcessorState::message_timer_).
  boolean timerArmed;
  long timerDeadlineNanos;
  boolean newTimeoutReceived;

  /**
   * What the direction's attribute expressions evaluate to (only the response's are modelled: from
   * the {@link UpstreamResponse}), and whether they were sent: Envoy sends them once, with the first
   * message of the direction ({@code Filter::addAttributes}, {@code setSentAttributes}).
   */
  java.util.Map<String, String> attributes = java.util.Map.of();

  boolean attributesSent;

  // What left Envoy in this direction.
  Headers forwardedHeaders;
  final List<ReleasedChunk> forwardedChunks = new ArrayList<>();
  Headers forwardedTrailers;

  DirectionState(Direction direction, ProcessingMode mode) {
    this.direction = requireNonNull(direction, "direction");
    setProcessingMode(mode);
  }

  /**
   * {@code setProcessingModeInternal}: headers are sent unless SKIP, trailers only when SEND — the
   * different defaults for DEFAULT.
   */
  void setProcessingMode(ProcessingMode mode) {
    if (direction == Direction.REQUEST) {
      sendHeaders = mode.getRequestHeaderMode() != HeaderSendMode.SKIP;
      sendTrailers = mode.getRequestTrailerMode() == HeaderSendMode.SEND;
      bodyMode = mode.getRequestBodyMode();
    } else {
      sendHeaders = mode.getResponseHeaderMode() != HeaderSendMode.SKIP;
      sendTrailers = mode.getResponseTrailerMode() == HeaderSendMode.SEND;
      bodyMode = mode.getResponseBodyMode();
    }
  }

  /**
   * {@code shouldRemoveContentLength}: in STREAMED, BUFFERED_PARTIAL, FULL_DUPLEX_STREAMED, and
   * BUFFERED with headers skipped, the processor may change the body after the headers left, so Envoy
   * drops {@code content-length} (processing_mode.proto, BodySendMode).
   */
  boolean shouldRemoveContentLength() {
    return bodyMode == BodySendMode.STREAMED
        || bodyMode == BodySendMode.BUFFERED_PARTIAL
        || bodyMode == BodySendMode.FULL_DUPLEX_STREAMED
        || (bodyMode == BodySendMode.BUFFERED && !sendHeaders);
  }

  boolean isDuplex() {
    return bodyMode == BodySendMode.FULL_DUPLEX_STREAMED;
  }

  long queuedBytes() {
    long total = 0;
    for (QueuedChunk c : queue) {
      total += c.data().size();
    }
    return total;
  }

  /** {@code ChunkQueue::consolidate}: everything queued as one chunk. */
  QueuedChunk drainQueue() {
    ByteString all = ByteString.EMPTY;
    boolean end = false;
    while (!queue.isEmpty()) {
      QueuedChunk c = queue.poll();
      all = all.concat(c.data());
      end = c.endStream();
    }
    return new QueuedChunk(all, end);
  }

  void forwardHeaders() {
    if (forwardedHeaders == null) {
      forwardedHeaders = headers.snapshot();
    }
  }

  /** Body Envoy lets through: a filter returning Continue while stopped continues the headers first. */
  void passData(ByteString data) {
    forwardHeaders();
    flushBuffered();
    release(data);
  }

  /**
   * Body Envoy injects from a processor reply ({@code injectDataToFilterChain}); held with the headers
   * while they have not been continued.
   */
  void inject(ByteString data) {
    if (forwardedHeaders == null) {
      buffered = buffered == null ? data : buffered.concat(data);
      return;
    }
    flushBuffered();
    release(data);
  }

  /** Trailers Envoy lets through; like data, Continue on trailers continues whatever was held. */
  void passTrailers() {
    trailersArrived = true;
    forwardHeaders();
    flushBuffered();
    forwardTrailers();
  }

  /** {@code continueIfNecessary}: resume the filter chain with whatever this filter held back. */
  void continueIfNecessary() {
    if (!paused) {
      return;
    }
    paused = false;
    forwardHeaders();
    flushBuffered();
    if (trailersArrived) {
      forwardTrailers();
    }
  }

  private void forwardTrailers() {
    if (trailers != null && forwardedTrailers == null) {
      forwardedTrailers = trailers.snapshot();
    }
  }

  private void flushBuffered() {
    if (buffered != null) {
      ByteString data = buffered;
      buffered = null;
      release(data);
    }
  }

  private void release(ByteString data) {
    if (!data.isEmpty()) {
      forwardedChunks.add(new ReleasedChunk(data, sourceIndex));
    }
  }

  /** True when nothing is held back and nothing is awaited. */
  boolean settled() {
    return callback == CallbackState.IDLE
        && !paused
        && forwardedHeaders != null
        && (buffered == null || buffered.isEmpty())
        && queue.isEmpty()
        && (trailers == null || forwardedTrailers != null);
  }

  String describe() {
    return direction + " (waiting for " + callback + ", body mode " + bodyMode + ", paused "
        + paused + ", headers forwarded " + (forwardedHeaders != null) + ", queued chunks "
        + queue.size() + ")";
  }
}
