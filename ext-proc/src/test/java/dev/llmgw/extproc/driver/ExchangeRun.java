package dev.llmgw.extproc.driver;

import static dev.llmgw.extproc.driver.DirectionState.CallbackState.BUFFERED_BODY;
import static dev.llmgw.extproc.driver.DirectionState.CallbackState.BUFFERED_PARTIAL_BODY;
import static dev.llmgw.extproc.driver.DirectionState.CallbackState.HEADERS;
import static dev.llmgw.extproc.driver.DirectionState.CallbackState.IDLE;
import static dev.llmgw.extproc.driver.DirectionState.CallbackState.STREAMED_BODY;
import static dev.llmgw.extproc.driver.DirectionState.CallbackState.TRAILERS;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmgw.extproc.driver.DirectionState.CallbackState;
import dev.llmgw.extproc.driver.DirectionState.Direction;
import dev.llmgw.extproc.driver.DirectionState.QueuedChunk;
import dev.llmgw.extproc.driver.ProcessorStream.Closed;
import dev.llmgw.extproc.driver.ProcessorStream.Inbound;
import dev.llmgw.extproc.driver.ProcessorStream.Message;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.HeaderForwardingRules;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse.ResponseCase;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Channel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One exchange through the simulated ext_proc filter. Mirrors {@code Filter} (ext_proc.cc) and
 * {@code ProcessorState} (processor_state.cc): the HTTP events ({@code onHeaders}, {@code onData},
 * {@code onTrailers}) decide what is sent, the reply handlers decide what a reply does and when the
 * filter chain continues, and everything runs on the calling thread in event order, as on Envoy's
 * dispatcher thread.
 */
final class ExchangeRun {

  private static final String CONTENT_LENGTH = "content-length";
  /** {@code DefaultMessageTimeoutMs} in ext_proc/config.h. */
  private static final long DEFAULT_MESSAGE_TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final ExternalProcessor config;
  private final EnvoyExtProcDriver.Settings settings;
  private final BlockingQueue<Inbound> inbox = new LinkedBlockingQueue<>();
  private final ProcessorStream stream;
  private final Mutations mutations;
  private final boolean observability;
  private final long messageTimeoutNanos;
  private final long maxMessageTimeoutMs;

  private final DirectionState request;
  private final DirectionState response;

  private final List<ProcessingRequest> sent = new ArrayList<>();
  private final List<ProcessingResponse> received = new ArrayList<>();
  private final Map<String, Struct> dynamicMetadata = new LinkedHashMap<>();
  private final List<RouteCacheClear> routeCacheClears = new ArrayList<>();
  private final Map<String, Long> stats = new TreeMap<>();
  private final List<String> notes = new ArrayList<>();
  private final Set<String> notedOnce = new HashSet<>();

  /** Envoy's {@code processing_complete_}: the processor is no longer consulted. */
  private boolean processingComplete;

  private boolean protocolConfigEncoded;
  private boolean upstreamCalled;
  private LocalReply localReply;
  private boolean downstreamReset;

  ExchangeRun(
      Channel channel,
      io.grpc.Metadata initialMetadata,
      ExternalProcessor config,
      EnvoyExtProcDriver.Settings settings) {
    this.config = config;
    this.settings = settings;
    this.stream = new ProcessorStream(channel, initialMetadata, inbox);
    this.mutations = new Mutations(
        new MutationChecker(config.getMutationRules()),
        settings.maxHeadersCount(),
        settings.maxHeadersKb(),
        new Mutations.Reporter() {
          @Override
          public void note(String note) {
            ExchangeRun.this.note(note);
          }

          @Override
          public void count(String stat) {
            ExchangeRun.this.count(stat);
          }
        });
    this.observability = config.getObservabilityMode();
    this.messageTimeoutNanos = config.hasMessageTimeout()
        ? toNanos(config.getMessageTimeout())
        : DEFAULT_MESSAGE_TIMEOUT_NANOS;
    this.maxMessageTimeoutMs = config.hasMaxMessageTimeout()
        ? TimeUnit.NANOSECONDS.toMillis(toNanos(config.getMaxMessageTimeout()))
        : 0;
    this.request = new DirectionState(Direction.REQUEST, config.getProcessingMode());
    this.response = new DirectionState(Direction.RESPONSE, config.getProcessingMode());
  }

  ExchangeResult run(DownstreamRequest downstream, Upstream upstream) {
    dynamicMetadata.putAll(downstream.dynamicMetadata());
    if (config.getRequestAttributesCount() > 0) {
      note("request_attributes are not evaluated by the driver; they are not sent");
    }
    try {
      runDirection(
          request, downstream.headers(), downstream.chunks(), downstream.trailers(), false);
      if (!terminated()) {
        upstreamCalled = true;
        UpstreamResponse upstreamResponse = upstream.respond(upstreamRequest());
        if (upstreamResponse == null) {
          throw new IllegalStateException("upstream returned null (expected: an UpstreamResponse)");
        }
        response.attributes = upstreamResponse.attributes();
        runDirection(
            response,
            upstreamResponse.headers(),
            upstreamResponse.chunks(),
            upstreamResponse.trailers(),
            upstreamResponse.bodyWithHeaders());
      }
    } finally {
      // Filter::onDestroy: processing is over; observability mode defers the close, otherwise close
      // + reset.
      processingComplete = true;
      if (observability) {
        stream.halfClose();
      } else {
        stream.closeAndReset();
      }
      for (Inbound late; (late = inbox.poll()) != null; ) {
        if (late instanceof Message m) {
          received.add(m.response());
        }
      }
    }
    return result();
  }

  // ---------------------------------------------------------------- HTTP side

  /**
   * Delivers one direction to the filter: headers, then each body chunk, then trailers, each only
   * after the filter has nothing outstanding (or, in FULL_DUPLEX_STREAMED, after the settle time).
   * With {@code atOnce}, everything is delivered before any reply is handled, as when the whole
   * message is in one network read.
   */
  private void runDirection(
      DirectionState s,
      Headers headers,
      List<ByteString> chunks,
      Optional<Headers> trailers,
      boolean atOnce) {
    s.headers = MutableHeaders.copyOf(headers);
    drainPending();
    if (terminated()) {
      return;
    }
    onHeaders(s, chunks.isEmpty() && trailers.isEmpty());
    if (!atOnce) {
      quiesce(s);
    }
    for (int i = 0; i < chunks.size(); i++) {
      if (!atOnce) {
        drainPending();
      }
      if (terminated()) {
        return;
      }
      s.sourceIndex = i;
      onData(s, chunks.get(i), i == chunks.size() - 1 && trailers.isEmpty());
      if (!atOnce) {
        quiesce(s);
      }
    }
    if (trailers.isPresent()) {
      if (!atOnce) {
        drainPending();
      }
      if (terminated()) {
        return;
      }
      onTrailers(s, trailers.get());
      quiesce(s);
    } else if (atOnce) {
      quiesce(s);
    }
    awaitIdle(s);
    if (terminated()) {
      return;
    }
    if (!s.settled()) {
      throw new IllegalStateException("driver bug: " + s.direction
          + " direction finished with data held back: " + s.describe() + "; notes: " + notes);
    }
  }

  /** {@code Filter::decodeHeaders} / {@code encodeHeaders} and {@code onHeaders}. */
  private void onHeaders(DirectionState s, boolean endStream) {
    if (observability && s.sendHeaders) {
      if (!processingComplete) {
        sendObservation(headersMessage(s, endStream, true));
      }
      s.forwardHeaders();
      return;
    }
    if (endStream) {
      s.completeBodyAvailable = true;
    }
    boolean stopped = false;
    if (s.sendHeaders && !processingComplete) {
      s.headersMutable = true;
      s.noBody = endStream;
      send(s, headersMessage(s, endStream, false), HEADERS);
      s.paused = true;
      stopped = true;
    }
    // Removed after the headers message was built: the processor still sees content-length.
    if (!processingComplete && s.shouldRemoveContentLength()) {
      s.headers.remove(CONTENT_LENGTH);
    }
    if (!stopped) {
      s.forwardHeaders();
    }
  }

  /** {@code Filter::onData} and the per-mode {@code handleData*} helpers. */
  private void onData(DirectionState s, ByteString data, boolean endStream) {
    s.bodyReceived = true;
    if (observability) {
      if (s.bodyMode == BodySendMode.STREAMED) {
        if (!processingComplete) {
          sendObservation(bodyMessage(s, data, endStream, true));
        }
      } else if (s.bodyMode != BodySendMode.NONE) {
        noteOnce("observability_mode sends only STREAMED bodies; " + s.bodyMode + " " + s.direction
            + " body not sent");
      }
      s.passData(data);
      return;
    }
    if (endStream) {
      s.completeBodyAvailable = true;
    }
    if (s.bodyReplaced) {
      return; // CONTINUE_AND_REPLACE replaced the whole body: the original chunk is drained
    }
    if (processingComplete) {
      s.passData(data);
      return;
    }
    if (s.callback == HEADERS && !s.isDuplex()) {
      // Header reply outstanding: hold the body (only BUFFERED counts against the buffer limit).
      s.paused = true;
      buffer(s, data, s.bodyMode == BodySendMode.BUFFERED);
      return;
    }
    switch (s.bodyMode) {
      case BUFFERED -> {
        if (!buffer(s, data, true)) {
          return;
        }
        s.paused = true;
        if (endStream) {
          send(s, bodyMessage(s, s.buffered, true, false), BUFFERED_BODY);
        }
      }
      case STREAMED -> {
        s.queue.add(new QueuedChunk(data, endStream));
        send(s, bodyMessage(s, data, endStream, false), STREAMED_BODY);
        if (endStream) {
          s.paused = true;
        }
      }
      case FULL_DUPLEX_STREAMED -> {
        // The chunk goes to the processor and is drained; only streamed_response replies carry body
        // on.
        CallbackState next = s.callback == HEADERS ? HEADERS : STREAMED_BODY;
        send(s, bodyMessage(s, data, endStream, false), next);
        if (endStream || next == HEADERS) {
          s.paused = true;
        }
      }
      case BUFFERED_PARTIAL -> {
        if (s.partialBodyProcessed) {
          s.headersMutable = false;
          s.passData(data);
          return;
        }
        s.queue.add(new QueuedChunk(data, endStream));
        s.paused = true;
        if (s.callback != BUFFERED_PARTIAL_BODY
            && (endStream || s.queuedBytes() > settings.bufferLimitBytes())) {
          sendPartial(s, endStream);
        }
      }
      default -> s.passData(data);
    }
  }

  /** {@code Filter::onTrailers}. */
  private void onTrailers(DirectionState s, Headers trailers) {
    s.trailers = MutableHeaders.copyOf(trailers);
    if (processingComplete) {
      s.passTrailers();
      return;
    }
    if (observability && s.sendTrailers) {
      sendObservation(trailersMessage(s, true));
      s.passTrailers();
      return;
    }
    boolean bodyDelivered = s.completeBodyAvailable;
    s.completeBodyAvailable = true;
    s.trailersArrived = true;
    if (s.callback != IDLE && !s.isDuplex()) {
      s.paused = true; // a reply handler sends or releases them when the outstanding call ends
      return;
    }
    if (!bodyDelivered
        && ((s.buffered != null && s.bodyMode == BodySendMode.BUFFERED)
            || (!s.queue.isEmpty() && s.bodyMode == BodySendMode.BUFFERED_PARTIAL))) {
      // The trailers tell Envoy the body is complete: send it, not at end of stream.
      if (s.bodyMode == BodySendMode.BUFFERED) {
        send(s, bodyMessage(s, s.buffered, false, false), BUFFERED_BODY);
      } else {
        sendPartial(s, false);
      }
      s.paused = true;
      return;
    }
    if (!s.sendTrailers) {
      s.passTrailers();
      return;
    }
    sendTrailers(s);
    s.paused = true;
  }

  private boolean buffer(DirectionState s, ByteString data, boolean enforceLimit) {
    s.buffered = s.buffered == null ? data : s.buffered.concat(data);
    if (enforceLimit && s.buffered.size() > settings.bufferLimitBytes()) {
      bufferLimitExceeded(s);
      return false;
    }
    return true;
  }

  /**
   * The filter manager's answer to a body over the buffer limit while a filter buffers it:
   * {@code requestDataTooLarge} (413) or {@code responseDataTooLarge} (500, or a reset when the
   * response already started).
   */
  private void bufferLimitExceeded(DirectionState s) {
    note(s.direction + " body exceeded the buffer limit of " + settings.bufferLimitBytes()
        + " bytes while " + s.bodyMode + " held it");
    processingComplete = true;
    finishCalls();
    closeStream();
    if (s.direction == Direction.REQUEST) {
      sendLocalReply(
          413,
          ByteString.copyFromUtf8("Payload Too Large"),
          null,
          "request_payload_too_large",
          OptionalInt.empty(),
          LocalReply.Origin.BUFFER_LIMIT);
    } else {
      sendLocalReply(
          500,
          ByteString.copyFromUtf8("Internal Server Error"),
          null,
          "response_payload_too_large",
          OptionalInt.empty(),
          LocalReply.Origin.BUFFER_LIMIT);
    }
  }

  private void sendPartial(DirectionState s, boolean endStream) {
    QueuedChunk all = s.drainQueue();
    s.queue.add(all);
    send(s, bodyMessage(s, all.data(), endStream && all.endStream(), false), BUFFERED_PARTIAL_BODY);
    s.paused = true;
  }

  private void sendTrailers(DirectionState s) {
    if (s.trailersSentToProcessor) {
      return;
    }
    s.trailersSentToProcessor = true;
    send(s, trailersMessage(s, false), s.callback == IDLE ? TRAILERS : s.callback);
  }

  // ---------------------------------------------------------------- sending

  /** {@code sendRequest} + {@code ProcessorState::onStartProcessorCall}. */
  private void send(DirectionState s, ProcessingRequest message, CallbackState next) {
    ProcessingRequest out = message;
    if (!protocolConfigEncoded) {
      // encodeProtocolConfig: only the first message on the stream carries it.
      out = message.toBuilder()
          .setProtocolConfig(ProtocolConfiguration.newBuilder()
              .setRequestBodyMode(request.bodyMode)
              .setResponseBodyMode(response.bodyMode)
              .setSendBodyWithoutWaitingForHeaderResponse(
                  config.getSendBodyWithoutWaitingForHeaderResponse()))
          .build();
      protocolConfigEncoded = true;
    }
    transmit(out);
    s.callback = next;
    s.newTimeoutReceived = false;
    if (!s.isDuplex()) {
      // No message timer in FULL_DUPLEX_STREAMED (onStartProcessorCall skips it).
      s.timerArmed = true;
      s.timerDeadlineNanos = System.nanoTime() + messageTimeoutNanos;
    }
  }

  private void sendObservation(ProcessingRequest message) {
    transmit(message);
  }

  private void transmit(ProcessingRequest message) {
    if (!stream.isOpen()) {
      stream.open();
      count("streams_started");
    }
    sent.add(message);
    count("stream_msgs_sent");
    stream.send(message);
  }

  private ProcessingRequest headersMessage(DirectionState s, boolean endStream, boolean observe) {
    HttpHeaders headers = HttpHeaders.newBuilder()
        .setHeaders(s.headers.toProto(this::forwardable))
        .setEndOfStream(endStream)
        .build();
    ProcessingRequest.Builder b =
        ProcessingRequest.newBuilder().setMetadataContext(forwardingMetadata());
    addAttributes(s, b);
    if (observe) {
      b.setObservabilityMode(true);
    }
    return (s.direction == Direction.REQUEST
            ? b.setRequestHeaders(headers)
            : b.setResponseHeaders(headers))
        .build();
  }

  private ProcessingRequest bodyMessage(
      DirectionState s, ByteString data, boolean endStream, boolean observe) {
    HttpBody body =
        HttpBody.newBuilder().setBody(data).setEndOfStream(endStream).build();
    ProcessingRequest.Builder b =
        ProcessingRequest.newBuilder().setMetadataContext(forwardingMetadata());
    addAttributes(s, b);
    if (observe) {
      b.setObservabilityMode(true);
    }
    return (s.direction == Direction.REQUEST ? b.setRequestBody(body) : b.setResponseBody(body))
        .build();
  }

  private ProcessingRequest trailersMessage(DirectionState s, boolean observe) {
    HttpTrailers trailers = HttpTrailers.newBuilder()
        .setTrailers(s.trailers.toProto(this::forwardable))
        .build();
    ProcessingRequest.Builder b = ProcessingRequest.newBuilder()
        .setMetadataContext(forwardingMetadata())
        .setObservabilityMode(observe);
    addAttributes(s, b);
    return (s.direction == Direction.REQUEST
            ? b.setRequestTrailers(trailers)
            : b.setResponseTrailers(trailers))
        .build();
  }

  /**
   * {@code Filter::addAttributes}: with the first message of the response direction, when the config
   * lists {@code response_attributes}, the values of those expressions under the filter's name (an
   * empty struct when none could be evaluated). The request's are not modelled (noted in run()).
   */
  private void addAttributes(DirectionState s, ProcessingRequest.Builder b) {
    if (s.direction != Direction.RESPONSE
        || s.attributesSent
        || config.getResponseAttributesCount() == 0) {
      return;
    }
    s.attributesSent = true;
    Struct.Builder values = Struct.newBuilder();
    for (String expression : config.getResponseAttributesList()) {
      String value = s.attributes.get(expression);
      if (value != null) {
        values.putFields(expression, Value.newBuilder().setStringValue(value).build());
      }
    }
    b.putAttributes(EnvoyExtProcDriver.FILTER_NAME, values.build());
  }

  private boolean forwardable(String name) {
    HeaderForwardingRules rules = config.getForwardRules();
    return StringMatchers.forwardable(
        name, rules.getAllowedHeaders(), rules.getDisallowedHeaders());
  }

  /** {@code Filter::addDynamicMetadata}: the forwarding namespaces present on the stream, always set. */
  private Metadata forwardingMetadata() {
    Metadata.Builder metadata = Metadata.newBuilder();
    for (String ns : config.getMetadataOptions().getForwardingNamespaces().getUntypedList()) {
      Struct value = dynamicMetadata.get(ns);
      if (value != null) {
        metadata.putFilterMetadata(ns, value);
      }
    }
    return metadata.build();
  }

  // ---------------------------------------------------------------- waiting

  private void quiesce(DirectionState s) {
    if (observability) {
      drainPending();
    } else if (s.isDuplex() && !processingComplete) {
      settle(s);
    } else {
      awaitIdle(s);
    }
  }

  /** Handles processor events until this direction awaits no reply, firing message timers on the way. */
  private void awaitIdle(DirectionState s) {
    while (!terminated() && !processingComplete && s.callback != IDLE) {
      DirectionState timed = armedTimer();
      long now = System.nanoTime();
      if (timed != null && timed.timerDeadlineNanos - now <= 0) {
        onMessageTimeout(timed);
        continue;
      }
      long wait = timed != null
          ? timed.timerDeadlineNanos - now
          : settings.stallTimeout().toNanos();
      Inbound event = poll(wait);
      if (event != null) {
        dispatch(event);
      } else if (timed == null) {
        throw new IllegalStateException("the processor sent nothing for " + settings.stallTimeout()
            + " while Envoy waited on " + s.describe()
            + ". Envoy runs no message timer here (FULL_DUPLEX_STREAMED,"
            + " or STREAMED after a reply with chunks still outstanding), so it would wait for the route or idle"
            + " timeout; notes: " + notes);
      }
    }
  }

  /**
   * FULL_DUPLEX_STREAMED: Envoy sends without waiting, so give the processor until it answers once, or
   * the settle time, before the next event arrives — replies are then attributed to what they answer.
   */
  private void settle(DirectionState s) {
    int before = s.repliesHandled;
    long until = System.nanoTime() + settings.duplexSettle().toNanos();
    while (!terminated()
        && !processingComplete
        && s.callback != IDLE
        && s.repliesHandled == before) {
      long now = System.nanoTime();
      long remaining = until - now;
      if (remaining <= 0) {
        break;
      }
      DirectionState timed = armedTimer();
      if (timed != null) {
        long untilTimer = timed.timerDeadlineNanos - now;
        if (untilTimer <= 0) {
          onMessageTimeout(timed);
          continue;
        }
        remaining = Math.min(remaining, untilTimer);
      }
      Inbound event = poll(remaining);
      if (event != null) {
        dispatch(event);
      }
    }
    drainPending();
  }

  /** Events that already happened are handled before the next HTTP event, as on Envoy's dispatcher. */
  private void drainPending() {
    for (Inbound event; (event = inbox.poll()) != null; ) {
      dispatch(event);
    }
    DirectionState timed = armedTimer();
    if (timed != null && timed.timerDeadlineNanos - System.nanoTime() <= 0 && !processingComplete) {
      onMessageTimeout(timed);
    }
  }

  private DirectionState armedTimer() {
    DirectionState first = null;
    for (DirectionState s : List.of(request, response)) {
      if (s.timerArmed && (first == null || s.timerDeadlineNanos - first.timerDeadlineNanos < 0)) {
        first = s;
      }
    }
    return first;
  }

  private Inbound poll(long nanos) {
    try {
      return inbox.poll(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the processor", e);
    }
  }

  // ---------------------------------------------------------------- processor side

  private void dispatch(Inbound event) {
    if (event instanceof Message m) {
      onMessage(m.response());
    } else if (event instanceof Closed c) {
      if (stream.closedLocally()) {
        return; // our own close/reset coming back
      }
      stream.markClosedRemotely();
      if (c.status().isOk()) {
        onGrpcClose();
      } else {
        onGrpcError(c.status());
      }
    }
  }

  /** {@code Filter::onReceiveMessage}. */
  private void onMessage(ProcessingResponse message) {
    received.add(message);
    if (observability) {
      noteOnce("observability_mode: Envoy ignores every processor reply");
      return;
    }
    if (processingComplete) {
      note(message.getResponseCase() + " reply ignored: Envoy no longer consults the processor");
      return;
    }
    if (message.hasOverrideMessageTimeout()) {
      onNewTimeout(message.getOverrideMessageTimeout());
      return;
    }
    applyModeOverride(message);
    Outcome outcome = switch (message.getResponseCase()) {
      case REQUEST_HEADERS -> {
        request.repliesHandled++;
        setDynamicMetadata(message);
        yield handleHeadersReply(
            request, message.getRequestHeaders().getResponse(), message.getResponseCase());
      }
      case RESPONSE_HEADERS -> {
        response.repliesHandled++;
        setDynamicMetadata(message);
        yield handleHeadersReply(
            response, message.getResponseHeaders().getResponse(), message.getResponseCase());
      }
      case REQUEST_BODY -> {
        request.repliesHandled++;
        setDynamicMetadata(message);
        yield handleBodyReply(request, message.getRequestBody(), message.getResponseCase());
      }
      case RESPONSE_BODY -> {
        response.repliesHandled++;
        setDynamicMetadata(message);
        yield handleBodyReply(response, message.getResponseBody(), message.getResponseCase());
      }
      case REQUEST_TRAILERS -> {
        request.repliesHandled++;
        setDynamicMetadata(message);
        yield handleTrailersReply(request, message.getRequestTrailers(), message.getResponseCase());
      }
      case RESPONSE_TRAILERS -> {
        response.repliesHandled++;
        setDynamicMetadata(message);
        yield handleTrailersReply(
            response, message.getResponseTrailers(), message.getResponseCase());
      }
      case IMMEDIATE_RESPONSE -> handleImmediateResponse(message);
      default -> Outcome.spurious("unhandled message");
    };
    switch (outcome.kind()) {
      case OK -> count("stream_msgs_received");
      case SPURIOUS -> onSpurious(message, outcome);
      case ERROR -> {
        count("stream_msgs_received");
        note(message.getResponseCase() + " reply rejected: " + outcome.message());
        failRequest(outcome.message());
      }
    }
  }

  /** {@code ProcessorState::handleHeadersResponse}. */
  private Outcome handleHeadersReply(DirectionState s, CommonResponse common, ResponseCase reply) {
    if (s.callback != HEADERS) {
      return Outcome.spurious("spurious message");
    }
    String where = describe(reply);
    boolean replace = common.getStatus() == CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE;
    if (common.hasHeaderMutation()) {
      Outcome applied = mutations.applyHeaders(
          common.getHeaderMutation(), s.headers, replace, s.shouldRemoveContentLength(), where);
      if (!applied.isOk()) {
        return applied;
      }
    }
    clearRouteCache(s, common, reply);
    finishCall(s, callbackAfterHeaders(s, replace));
    if (common.getTrailers().getHeadersCount() > 0) {
      note(where + ": CommonResponse.trailers is not implemented by Envoy and is ignored");
    }
    if (replace) {
      if (common.hasBodyMutation()) {
        // The processor replaces the whole body (or adds one): content-length cannot be trusted.
        s.headers.remove(CONTENT_LENGTH);
        s.bodyReplaced = true;
        s.buffered = Mutations.applyBody(
            common.getBodyMutation(), s.buffered == null ? ByteString.EMPTY : s.buffered);
      }
      s.queue.clear();
      s.bodyMode = BodySendMode.NONE;
      s.sendTrailers = false;
      return finalizeResponse(s);
    }
    if (common.hasBodyMutation()) {
      note(
          where
              + ": body_mutation ignored (a headers reply changes the body only with CONTINUE_AND_REPLACE)");
    }
    if (s.noBody) {
      return finalizeContinue(s);
    }
    if (s.completeBodyAvailable && s.bodyMode != BodySendMode.NONE) {
      if (s.callback == IDLE) {
        if (s.buffered != null) {
          send(s, bodyMessage(s, s.buffered, !s.trailersArrived, false), BUFFERED_BODY);
        }
      } else {
        sendBufferedInStreamedMode(s, !s.trailersArrived);
      }
      return Outcome.ok();
    }
    switch (s.bodyMode) {
      case BUFFERED -> {
        return Outcome.ok(); // headers stay held until the body reply
      }
      case STREAMED -> {
        sendBufferedInStreamedMode(s, false);
        s.continueIfNecessary();
        return Outcome.ok();
      }
      case FULL_DUPLEX_STREAMED -> {
        s.continueIfNecessary();
        return Outcome.ok();
      }
      case BUFFERED_PARTIAL -> {
        if (s.buffered != null && !s.buffered.isEmpty()) {
          s.queue.add(new QueuedChunk(s.buffered, false));
          s.buffered = null;
        }
        if (s.queuedBytes() > settings.bufferLimitBytes()) {
          sendPartial(s, false);
        }
        return Outcome.ok();
      }
      default -> {
        return finalizeContinue(s);
      }
    }
  }

  /** {@code getCallbackStateAfterHeaderResp}. */
  private static CallbackState callbackAfterHeaders(DirectionState s, boolean replace) {
    if (replace) {
      return IDLE;
    }
    if (s.isDuplex()) {
      if (s.bodyReceived) {
        return STREAMED_BODY;
      }
      if (s.trailersArrived) {
        return TRAILERS;
      }
    }
    return IDLE;
  }

  private void sendBufferedInStreamedMode(DirectionState s, boolean endStream) {
    if (s.buffered != null && !s.buffered.isEmpty()) {
      ByteString chunk = s.buffered;
      s.buffered = null;
      s.queue.add(new QueuedChunk(chunk, endStream));
      send(s, bodyMessage(s, chunk, endStream, false), STREAMED_BODY);
    }
  }

  private Outcome finalizeContinue(DirectionState s) {
    if (s.sendTrailers && s.trailersArrived) {
      sendTrailers(s);
      return Outcome.ok();
    }
    return finalizeResponse(s);
  }

  private Outcome finalizeResponse(DirectionState s) {
    s.headersMutable = false;
    s.continueIfNecessary();
    return Outcome.ok();
  }

  /** {@code ProcessorState::handleBodyResponse}. */
  private Outcome handleBodyReply(DirectionState s, BodyResponse body, ResponseCase reply) {
    if (s.callback != BUFFERED_BODY
        && s.callback != STREAMED_BODY
        && s.callback != BUFFERED_PARTIAL_BODY) {
      return Outcome.spurious("spurious message");
    }
    String where = describe(reply);
    CommonResponse common = body.getResponse();
    boolean replace = common.getStatus() == CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE;
    boolean shouldContinue;
    switch (s.callback) {
      case BUFFERED_BODY -> {
        if (common.hasHeaderMutation()) {
          if (s.headersMutable) {
            Outcome applied = mutations.applyHeaders(
                common.getHeaderMutation(),
                s.headers,
                replace,
                s.shouldRemoveContentLength(),
                where);
            if (!applied.isOk()) {
              return applied;
            }
          } else {
            note(where + ": header_mutation ignored (the headers already left Envoy)");
          }
        }
        if (common.hasBodyMutation() && common.getBodyMutation().hasStreamedResponse()) {
          note(
              where
                  + ": streamed_response outside FULL_DUPLEX_STREAMED leaves a BUFFERED body unchanged");
        }
        if (common.hasBodyMutation()) {
          if (s.headersMutable
              && contentLengthMismatch(
                  s.headers, common.getBodyMutation().getBody().size())) {
            return Outcome.error(
                "mismatch between content length and the length of the mutated body");
          }
          s.buffered = Mutations.applyBody(
              common.getBodyMutation(), s.buffered == null ? ByteString.EMPTY : s.buffered);
        }
        finishCall(s, IDLE);
        shouldContinue = true;
      }
      case STREAMED_BODY -> {
        if (common.hasBodyMutation() && common.getBodyMutation().hasStreamedResponse()) {
          if (!s.isDuplex()) {
            return Outcome.spurious(
                "spurious message: streamed_response is received while body_mode_ is not FULL_DUPLEX_STREAMED");
          }
          StreamedBodyResponse streamed = common.getBodyMutation().getStreamedResponse();
          if (!streamed.getBody().isEmpty()) {
            s.inject(streamed.getBody());
          }
          finishCall(s, streamed.getEndOfStream() ? IDLE : STREAMED_BODY);
          shouldContinue = streamed.getEndOfStream();
        } else {
          if (s.isDuplex()) {
            return Outcome.spurious(
                "spurious message: Normal body mutation response is received while "
                    + "body_mode_ is FULL_DUPLEX_STREAMED");
          }
          QueuedChunk chunk = s.queue.poll();
          if (chunk == null) {
            throw new IllegalStateException(
                "driver bug: STREAMED reply with no chunk outstanding: " + s.describe());
          }
          if (common.hasHeaderMutation()) {
            note(where
                + ": header_mutation ignored (in STREAMED mode the headers already left Envoy)");
          }
          ByteString data = common.hasBodyMutation()
              ? Mutations.applyBody(common.getBodyMutation(), chunk.data())
              : chunk.data();
          shouldContinue = chunk.endStream();
          if (!data.isEmpty()) {
            s.inject(data);
          }
          finishCall(s, s.queue.isEmpty() ? IDLE : STREAMED_BODY);
        }
      }
      default -> { // BUFFERED_PARTIAL_BODY
        QueuedChunk chunk = s.queue.poll();
        if (common.hasHeaderMutation()) {
          if (s.headersMutable) {
            Outcome applied = mutations.applyHeaders(
                common.getHeaderMutation(),
                s.headers,
                replace,
                s.shouldRemoveContentLength(),
                where);
            if (!applied.isOk()) {
              return applied;
            }
          } else {
            note(where + ": header_mutation ignored (the headers already left Envoy)");
          }
        }
        ByteString data = common.hasBodyMutation()
            ? Mutations.applyBody(common.getBodyMutation(), chunk.data())
            : chunk.data();
        if (!data.isEmpty()) {
          s.inject(data);
        }
        shouldContinue = true;
        finishCall(s, IDLE);
        s.partialBodyProcessed = true;
        if (!s.queue.isEmpty()) {
          s.inject(s.drainQueue().data());
        }
      }
    }
    if (replace) {
      note(
          where
              + ": CONTINUE_AND_REPLACE on a body reply only lets :method change; later phases are still sent");
    }
    clearRouteCache(s, common, reply);
    s.headersMutable = false;
    if (s.sendTrailers && s.trailersArrived && s.queue.isEmpty()) {
      sendTrailers(s);
      return Outcome.ok();
    }
    if (shouldContinue || (s.trailersArrived && s.queue.isEmpty())) {
      s.continueIfNecessary();
    }
    return Outcome.ok();
  }

  /** BUFFERED body mutation with content-length present: the processor must keep them consistent. */
  private static boolean contentLengthMismatch(MutableHeaders headers, int newBodySize) {
    Optional<String> contentLength = headers.first(CONTENT_LENGTH);
    if (contentLength.isEmpty()) {
      return false;
    }
    try {
      long declared = Long.parseLong(contentLength.get().trim());
      return declared >= 0 && declared != newBodySize;
    } catch (NumberFormatException e) {
      return false; // SimpleAtoi fails: Envoy skips the check
    }
  }

  /** {@code ProcessorState::handleTrailersResponse}; in FULL_DUPLEX_STREAMED accepted in any state. */
  private Outcome handleTrailersReply(
      DirectionState s, TrailersResponse trailers, ResponseCase reply) {
    if (s.callback != TRAILERS && !s.isDuplex()) {
      return Outcome.spurious("spurious message");
    }
    if (!s.trailersSentToProcessor) {
      // Envoy would dereference missing trailers here; the driver calls it out instead.
      return Outcome.spurious("spurious message: no trailers were sent in this direction");
    }
    if (trailers.hasHeaderMutation()) {
      Outcome applied = mutations.applyHeaders(
          trailers.getHeaderMutation(), s.trailers, false, false, describe(reply));
      if (!applied.isOk()) {
        return applied;
      }
    }
    finishCall(s, IDLE);
    s.continueIfNecessary();
    return Outcome.ok();
  }

  private Outcome handleImmediateResponse(ProcessingResponse message) {
    if (config.getDisableImmediateResponse()) {
      return Outcome.spurious("unhandled immediate response due to config disabled it");
    }
    setDynamicMetadata(message);
    processingComplete = true;
    finishCalls();
    closeStream();
    ImmediateResponse immediate = message.getImmediateResponse();
    int code = immediate.hasStatus() ? immediate.getStatus().getCodeValue() : 200;
    if (code < 200) {
      note("immediate_response status " + code + " is not a valid HTTP status; Envoy sends 200");
      code = 200;
    }
    OptionalInt grpcStatus = immediate.hasGrpcStatus()
        ? OptionalInt.of(immediate.getGrpcStatus().getStatus())
        : OptionalInt.empty();
    sendLocalReply(
        code,
        immediate.getBody(),
        immediate.hasHeaders() ? immediate.getHeaders() : null,
        immediate.getDetails(),
        grpcStatus,
        LocalReply.Origin.PROCESSOR);
    return Outcome.ok();
  }

  private void onSpurious(ProcessingResponse message, Outcome outcome) {
    count("spurious_msgs_received");
    note("spurious " + message.getResponseCase() + " reply (" + outcome.message()
        + ") while Envoy waited on " + activeSide().describe());
    if (settings.spuriousMessages() == SpuriousMessageHandling.FOLLOW_FAILURE_MODE
        && !config.getFailureModeAllow()) {
      failRequest(outcome.message());
      return;
    }
    if (settings.spuriousMessages() == SpuriousMessageHandling.FOLLOW_FAILURE_MODE) {
      count("failure_mode_allowed");
    }
    closeStream();
    processingComplete = true;
    clearAsyncState();
  }

  /** {@code handleErrorResponse}: a 500 whose details are the error. */
  private void failRequest(String message) {
    processingComplete = true;
    finishCalls();
    closeStream();
    sendLocalReply(
        500,
        ByteString.EMPTY,
        null,
        message,
        OptionalInt.empty(),
        LocalReply.Origin.EXT_PROC_ERROR);
  }

  /** {@code Filter::onGrpcClose}: the processor ended the call cleanly; carry on without it. */
  private void onGrpcClose() {
    note("the processor closed the stream; Envoy continues without it");
    processingComplete = true;
    count("streams_closed");
    clearAsyncState();
  }

  /** {@code Filter::onGrpcError}. */
  private void onGrpcError(Status status) {
    count("streams_failed");
    if (processingComplete) {
      return;
    }
    note("the processor failed the stream with " + status);
    if (config.getFailureModeAllow()) {
      onGrpcClose();
      count("failure_mode_allowed");
      return;
    }
    processingComplete = true;
    finishCalls();
    closeStream();
    sendLocalReply(
        500,
        ByteString.EMPTY,
        null,
        "ext_proc_error_gRPC_error_" + status.getCode().value(),
        OptionalInt.empty(),
        LocalReply.Origin.EXT_PROC_ERROR);
  }

  /** {@code Filter::onMessageTimeout}: 504, or carry on unmodified with failure_mode_allow. */
  private void onMessageTimeout(DirectionState s) {
    count("message_timeouts");
    note("no reply within message_timeout while Envoy waited on " + s.describe());
    processingComplete = true;
    closeStream();
    if (config.getFailureModeAllow()) {
      count("failure_mode_allowed");
      clearAsyncState();
      return;
    }
    finishCalls();
    sendLocalReply(
        504,
        ByteString.EMPTY,
        null,
        "ext_proc_error_per-message_timeout_exceeded",
        OptionalInt.empty(),
        LocalReply.Origin.EXT_PROC_ERROR);
  }

  /** {@code Filter::onNewTimeout}: one extension per outstanding call, within max_message_timeout. */
  private void onNewTimeout(com.google.protobuf.Duration timeout) {
    long ms = timeout.getSeconds() < 0 || timeout.getNanos() < 0
        ? -1
        : TimeUnit.NANOSECONDS.toMillis(toNanos(timeout));
    if (ms < 1 || ms > maxMessageTimeoutMs) {
      count("override_message_timeout_ignored");
      note("override_message_timeout " + ms + "ms ignored (expected: 1ms to max_message_timeout "
          + maxMessageTimeoutMs + "ms)");
      return;
    }
    boolean restarted = false;
    for (DirectionState s : List.of(request, response)) {
      if (s.timerArmed && !s.newTimeoutReceived) {
        s.timerDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        s.newTimeoutReceived = true;
        restarted = true;
      }
    }
    if (restarted) {
      count("override_message_timeout_received");
    } else {
      count("override_message_timeout_ignored");
      note(
          "override_message_timeout ignored: no timer running, or already extended once in this state");
    }
  }

  /**
   * The mode_override part of {@code onReceiveMessage}: only with allow_mode_override, not with
   * send_body_without_waiting_for_header_response or a FULL_DUPLEX_STREAMED config, only while a
   * headers reply is awaited, and only if allowed_override_modes (when set) lists the result.
   */
  private void applyModeOverride(ProcessingResponse message) {
    if (!message.hasModeOverride()) {
      return;
    }
    ProcessingMode configured = config.getProcessingMode();
    String ignoredBecause = null;
    if (!config.getAllowModeOverride()) {
      ignoredBecause = "allow_mode_override is false";
    } else if (config.getSendBodyWithoutWaitingForHeaderResponse()) {
      ignoredBecause = "send_body_without_waiting_for_header_response is true";
    } else if (configured.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
        || configured.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED) {
      ignoredBecause = "the filter is configured with FULL_DUPLEX_STREAMED";
    } else if (request.callback != HEADERS && response.callback != HEADERS) {
      ignoredBecause = "Envoy was not waiting for a headers reply";
    }
    if (ignoredBecause != null) {
      note("mode_override ignored: " + ignoredBecause);
      return;
    }
    ProcessingMode effective = effectiveModeOverride(message.getModeOverride(), configured);
    if (config.getAllowedOverrideModesCount() > 0
        && config.getAllowedOverrideModesList().stream()
            .noneMatch(allowed -> sameExceptRequestHeaders(effective, allowed))) {
      note("mode_override ignored: not in allowed_override_modes");
      return;
    }
    request.setProcessingMode(effective);
    response.setProcessingMode(effective);
    note("mode_override applied: request body " + effective.getRequestBodyMode()
        + ", response headers " + effective.getResponseHeaderMode() + ", response body "
        + effective.getResponseBodyMode());
  }

  /** DEFAULT header/trailer modes in an override keep the configured value; body modes are always explicit. */
  private static ProcessingMode effectiveModeOverride(
      ProcessingMode target, ProcessingMode existing) {
    ProcessingMode.Builder mode = existing.toBuilder();
    if (target.getRequestHeaderMode() != HeaderSendMode.DEFAULT) {
      mode.setRequestHeaderMode(target.getRequestHeaderMode());
    }
    if (target.getResponseHeaderMode() != HeaderSendMode.DEFAULT) {
      mode.setResponseHeaderMode(target.getResponseHeaderMode());
    }
    if (target.getRequestTrailerMode() != HeaderSendMode.DEFAULT) {
      mode.setRequestTrailerMode(target.getRequestTrailerMode());
    }
    if (target.getResponseTrailerMode() != HeaderSendMode.DEFAULT) {
      mode.setResponseTrailerMode(target.getResponseTrailerMode());
    }
    mode.setRequestBodyMode(target.getRequestBodyMode());
    mode.setResponseBodyMode(target.getResponseBodyMode());
    return mode.build();
  }

  private static boolean sameExceptRequestHeaders(ProcessingMode a, ProcessingMode b) {
    return a.getRequestBodyMode() == b.getRequestBodyMode()
        && a.getRequestTrailerMode() == b.getRequestTrailerMode()
        && a.getResponseHeaderMode() == b.getResponseHeaderMode()
        && a.getResponseBodyMode() == b.getResponseBodyMode()
        && a.getResponseTrailerMode() == b.getResponseTrailerMode();
  }

  /**
   * {@code Filter::setDynamicMetadata}: each top-level field of the struct is a namespace; only
   * namespaces in {@code metadata_options.receiving_namespaces.untyped} are written, merged into what
   * the stream already has.
   */
  private void setDynamicMetadata(ProcessingResponse message) {
    if (!message.hasDynamicMetadata()) {
      return;
    }
    List<String> receiving =
        config.getMetadataOptions().getReceivingNamespaces().getUntypedList();
    if (receiving.isEmpty()) {
      note(
          "dynamic_metadata dropped: metadata_options.receiving_namespaces.untyped is empty, so Envoy accepts none");
      return;
    }
    for (Map.Entry<String, Value> field :
        message.getDynamicMetadata().getFieldsMap().entrySet()) {
      String namespace = field.getKey();
      if (!receiving.contains(namespace)) {
        note("dynamic_metadata namespace '" + namespace + "' dropped: not in receiving_namespaces");
        continue;
      }
      if (!field.getValue().hasStructValue()) {
        note("dynamic_metadata namespace '" + namespace
            + "' is not a struct; Envoy merges an empty struct");
      }
      Struct add = field.getValue().getStructValue();
      Struct existing = dynamicMetadata.get(namespace);
      dynamicMetadata.put(
          namespace,
          existing == null ? add : existing.toBuilder().mergeFrom(add).build());
    }
  }

  /**
   * {@code DecodingProcessorState::clearRouteCache}: request direction only, only with a header
   * mutation in the same reply, then per route_cache_action (disable_clear_route_cache means RETAIN).
   */
  private void clearRouteCache(DirectionState s, CommonResponse common, ResponseCase reply) {
    boolean asked = common.getClearRouteCache();
    if (s.direction == Direction.RESPONSE) {
      if (asked) {
        note(describe(reply) + ": clear_route_cache ignored in the response direction");
      }
      return;
    }
    if (!common.hasHeaderMutation()) {
      if (asked) {
        count("clear_route_cache_ignored");
        note(
            describe(reply)
                + ": clear_route_cache ignored (Envoy clears only with a header_mutation in the same reply)");
      }
      return;
    }
    ExternalProcessor.RouteCacheAction action = config.getDisableClearRouteCache()
        ? ExternalProcessor.RouteCacheAction.RETAIN
        : config.getRouteCacheAction();
    switch (action) {
      case CLEAR ->
        routeCacheClears.add(new RouteCacheClear(reply, request.forwardedHeaders == null));
      case RETAIN -> {
        if (asked) {
          count("clear_route_cache_disabled");
          note(describe(reply) + ": clear_route_cache ignored (route_cache_action RETAIN)");
        }
      }
      default -> {
        if (asked) {
          routeCacheClears.add(new RouteCacheClear(reply, request.forwardedHeaders == null));
        }
      }
    }
  }

  /** {@code clearAsyncState}: give up on outstanding calls and release what was held, unmodified. */
  private void clearAsyncState() {
    for (DirectionState s : List.of(request, response)) {
      if (s.isDuplex() && s.callback != IDLE && s.bodyReceived) {
        note(s.direction + " FULL_DUPLEX_STREAMED body the processor had not sent back is lost");
      }
      finishCall(s, IDLE);
      if (!s.queue.isEmpty()) {
        s.inject(s.drainQueue().data());
      }
      if (s.headers != null) {
        s.continueIfNecessary();
      }
    }
  }

  private void finishCall(DirectionState s, CallbackState next) {
    s.timerArmed = false;
    s.newTimeoutReceived = false;
    s.callback = next;
  }

  private void finishCalls() {
    finishCall(request, IDLE);
    finishCall(response, IDLE);
  }

  private void closeStream() {
    if (observability) {
      stream.halfClose();
    } else {
      stream.closeAndReset();
    }
  }

  /**
   * {@code sendImmediateResponse} / {@code sendLocalReply}: a text/plain reply with the processor's
   * header changes applied under the filter's mutation rules — or, when the response headers already
   * reached the client, a stream reset.
   */
  private void sendLocalReply(
      int code,
      ByteString body,
      HeaderMutation headerMutation,
      String details,
      OptionalInt grpcStatus,
      LocalReply.Origin origin) {
    String recordedDetails = details.replaceAll("\\s", "_");
    if (response.forwardedHeaders != null) {
      downstreamReset = true;
      note("local reply " + code + " (" + recordedDetails
          + ") after the response headers reached the client:" + " Envoy resets the stream");
      return;
    }
    MutableHeaders headers = new MutableHeaders();
    headers.add(":status", Integer.toString(code));
    if (!body.isEmpty()) {
      headers.add("content-type", "text/plain");
    }
    headers.add(CONTENT_LENGTH, Integer.toString(body.size()));
    if (headerMutation != null) {
      Outcome applied = mutations.applyHeaders(
          headerMutation, headers, false, false, "immediate_response headers");
      if (!applied.isOk()) {
        note("immediate response header mutations failed: " + applied.message());
      }
    }
    int status = headers.first(":status").map(Integer::parseInt).orElse(code);
    localReply =
        new LocalReply(origin, status, headers.snapshot(), body, recordedDetails, grpcStatus);
  }

  // ---------------------------------------------------------------- bookkeeping

  private boolean terminated() {
    return localReply != null || downstreamReset;
  }

  private DirectionState activeSide() {
    return response.headers != null ? response : request;
  }

  private UpstreamRequest upstreamRequest() {
    return new UpstreamRequest(
        request.forwardedHeaders,
        request.forwardedChunks,
        Optional.ofNullable(request.forwardedTrailers),
        routeCacheClears.stream().anyMatch(RouteCacheClear::beforeRouting),
        upstreamCalled);
  }

  private ExchangeResult result() {
    Optional<UpstreamRequest> upstream =
        request.forwardedHeaders == null ? Optional.empty() : Optional.of(upstreamRequest());
    ClientResponse client;
    if (localReply != null) {
      List<ReleasedChunk> body = localReply.body().isEmpty()
          ? List.of()
          : List.of(new ReleasedChunk(localReply.body(), response.sourceIndex));
      client = new ClientResponse(
          localReply.status(), localReply.headers(), body, Optional.empty(), false);
    } else {
      Headers headers = response.forwardedHeaders;
      if (headers == null) {
        throw new IllegalStateException(
            "driver bug: no response reached the client and no local reply; notes: " + notes);
      }
      client = new ClientResponse(
          Integer.parseInt(headers.get(":status").orElse("0")),
          headers,
          response.forwardedChunks,
          Optional.ofNullable(response.forwardedTrailers),
          downstreamReset);
    }
    return new ExchangeResult(
        sent,
        received,
        upstream,
        client,
        Optional.ofNullable(localReply),
        dynamicMetadata,
        routeCacheClears,
        stats,
        notes);
  }

  private void count(String stat) {
    stats.merge(stat, 1L, Long::sum);
  }

  private void note(String note) {
    notes.add(note);
  }

  private void noteOnce(String note) {
    if (notedOnce.add(note)) {
      notes.add(note);
    }
  }

  private static String describe(ResponseCase reply) {
    return reply.name().toLowerCase(java.util.Locale.ROOT) + " reply";
  }

  private static long toNanos(com.google.protobuf.Duration d) {
    return TimeUnit.SECONDS.toNanos(d.getSeconds()) + d.getNanos();
  }
}
