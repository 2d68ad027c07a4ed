package dev.llmgw.extproc.server;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.google.protobuf.Struct;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.Value;
import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.BodyTail;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.KeyIdentity;
import dev.llmgw.extproc.policy.ModelTarget;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of one ext_proc stream, i.e. one HTTP exchange through Envoy.
 *
 * <p>Request headers decide whether the exchange is an LLM call. Pass-through traffic gets a
 * {@code mode_override} that stops Envoy sending anything more. LLM calls get their request body
 * BUFFERED (whole, up to the policy's limit); it is validated, the model resolved and rewritten,
 * the route header set and the route cache cleared. Response headers decide whether the response
 * body is watched: STREAMED, so SSE events are seen as they pass and nothing is held back.
 *
 * <p>State is per stream and bounded: the SSE parser keeps at most one event (a larger one goes by
 * unread), a JSON response is kept only up to {@link #MAX_RESPONSE_INSPECT_BYTES} (then only its
 * last {@link #MAX_RESPONSE_TAIL_BYTES}). Only the policy, listeners and metrics are shared between
 * streams.
 */
final class ProcessingStream implements StreamObserver<ProcessingRequest> {

  /** Header ext-proc sets to pick the route; the control plane's routes match on it. */
  static final String ROUTE_HEADER = "x-llmgw-route";
  /** Header ext-proc sets to the tenant it resolved, for routes that match on it; removed before providers. */
  static final String TENANT_HEADER = "x-llmgw-tenant";
  /** Dynamic-metadata namespace the access log and later filters read. */
  static final String METADATA_NAMESPACE = "llmgw";

  static final int MAX_SSE_EVENT_BYTES = 1 << 20;
  static final int MAX_RESPONSE_INSPECT_BYTES = 8 << 20;
  /** What is kept of a JSON response over {@link #MAX_RESPONSE_INSPECT_BYTES}: its end, where usage is. */
  static final int MAX_RESPONSE_TAIL_BYTES = 64 << 10;

  private static final Logger log = LoggerFactory.getLogger(ProcessingStream.class);

  private final StreamObserver<ProcessingResponse> out;
  private final StreamContext context;
  private final List<ExchangeListener> listeners;
  private final ExtProcMetrics metrics;
  private final List<ExchangeListener.Observer> observers = new ArrayList<>(2);
  private @Nullable SseParser sse;
  private @Nullable ByteArrayOutputStream responseBody;
  private @Nullable BodyTail responseTail;
  private @Nullable ResponseRewriter rewriter;
  /** The request as the stages saw it last (after a retarget, the one asked again). */
  private @Nullable LlmRequest forwardedRequest;

  private boolean ended;

  ProcessingStream(
      StreamObserver<ProcessingResponse> out,
      GatewayPolicy policy,
      List<ExchangeListener> listeners,
      ExtProcMetrics metrics) {
    this.out = out;
    this.context = new StreamContext(policy);
    this.listeners = listeners;
    this.metrics = metrics;
  }

  @Override
  public void onNext(ProcessingRequest request) {
    long start = System.nanoTime();
    ProcessingResponse response;
    try {
      response = switch (request.getRequestCase()) {
        case REQUEST_HEADERS -> onRequestHeaders(request.getRequestHeaders());
        case REQUEST_BODY -> onRequestBody(request.getRequestBody());
        case RESPONSE_HEADERS ->
          onResponseHeaders(request.getResponseHeaders(), ServedBy.provider(request));
        case RESPONSE_BODY -> onResponseBody(request.getResponseBody());
        case REQUEST_TRAILERS, RESPONSE_TRAILERS ->
          ExternalProcessorService.continueResponse(request);
        case REQUEST_NOT_SET -> null;
      };
    } catch (RuntimeException e) {
      response = onInternalFailure(request, e);
    }
    metrics.phase(phaseName(request), Duration.ofNanos(System.nanoTime() - start));
    if (response == null) {
      metrics.error("protocol");
      out.onError(io.grpc.Status.INVALID_ARGUMENT
          .withDescription(
              "ProcessingRequest has no phase set (expected one of request_headers, request_body, "
                  + "request_trailers, response_headers, response_body, response_trailers)")
          .asRuntimeException());
      end();
      return;
    }
    out.onNext(response);
  }

  @Override
  public void onError(Throwable t) {
    end();
  }

  @Override
  public void onCompleted() {
    end();
    out.onCompleted();
  }

  private ProcessingResponse onRequestHeaders(HttpHeaders headers) {
    String method = null;
    String path = null;
    String contentType = null;
    long contentLength = -1;
    boolean clientRouteHeader = false;
    GatewayPolicy.IdentityHeaders names = context.policy().identityHeaders();
    String tenant = null;
    String application = null;
    String user = null;
    String apiKey = null;
    for (HeaderValue h : headers.getHeaders().getHeadersList()) {
      String key = h.getKey();
      switch (key) {
        case ":method" -> method = value(h);
        case ":path" -> path = value(h);
        case "content-type" -> contentType = value(h);
        case "content-length" -> contentLength = parseLength(value(h));
        case ROUTE_HEADER -> clientRouteHeader = true;
        default -> {
          if (key.equals(names.tenant())) {
            tenant = value(h);
          } else if (key.equals(names.application())) {
            application = value(h);
          } else if (key.equals(names.user())) {
            user = value(h);
          } else if (key.equals(names.apiKey())) {
            apiKey = apiKey(value(h));
          }
        }
      }
    }
    CommonResponse.Builder common = CommonResponse.newBuilder();
    if (clientRouteHeader) {
      // Clients never choose the route themselves; only the policy does.
      common
          .setHeaderMutation(HeaderMutation.newBuilder().addRemoveHeaders(ROUTE_HEADER))
          .setClearRouteCache(true);
    }
    LlmApi api = LlmApi.detect(method, path).orElse(null);
    if (api == null) {
      metrics.streamStarted("passthrough");
      return ProcessingResponse.newBuilder()
          .setRequestHeaders(HeadersResponse.newBuilder().setResponse(common))
          .setModeOverride(Responses.PASS_THROUGH)
          .build();
    }
    metrics.streamStarted(api.name().toLowerCase(Locale.ROOT));
    context.api(api);
    String keyId = apiKey == null ? null : Identity.fingerprint(apiKey);
    KeyIdentity registered = keyId == null ? null : context.policy().keys().get(keyId);
    if (registered != null) {
      // A registered key says whom it belongs to; headers only fill what the registration leaves
      // open.
      tenant = registered.tenant() != null ? registered.tenant() : tenant;
      application = registered.application() != null ? registered.application() : application;
      user = registered.user() != null ? registered.user() : user;
    }
    context.identity(new Identity(tenant, application, user, keyId));
    // Routes may match on the tenant: give them the one resolved here, never a value the client
    // chose.
    if (tenant != null) {
      common.getHeaderMutationBuilder().addSetHeaders(Responses.setHeader(TENANT_HEADER, tenant));
    } else {
      common.getHeaderMutationBuilder().addRemoveHeaders(TENANT_HEADER);
    }
    common.setClearRouteCache(true);
    if (contentType == null || !isJson(contentType)) {
      return reject(new ApiError(
          415,
          ApiError.Kind.INVALID_REQUEST,
          null,
          "unsupported_content_type",
          "content-type is " + (contentType == null ? "missing" : "'" + contentType + "'")
              + " (expected: application/json)"));
    }
    if (headers.getEndOfStream() || contentLength == 0) {
      return reject(new ApiError(
          400,
          ApiError.Kind.INVALID_REQUEST,
          null,
          "empty_body",
          "request has no body (expected: a JSON object with a \"model\" field)"));
    }
    int limit = context.policy().maxRequestBodyBytes();
    if (contentLength > limit) {
      return reject(tooLarge(contentLength, limit));
    }
    return ProcessingResponse.newBuilder()
        .setRequestHeaders(HeadersResponse.newBuilder().setResponse(common))
        .setModeOverride(Responses.LLM_REQUEST)
        .build();
  }

  private ProcessingResponse onRequestBody(HttpBody body) {
    if (context.api() == null) {
      return ProcessingResponse.newBuilder()
          .setRequestBody(BodyResponse.getDefaultInstance())
          .build();
    }
    if (!body.getEndOfStream()) {
      throw new IllegalStateException(
          "request body arrived in parts (expected: BUFFERED mode, one message with end_of_stream)");
    }
    GatewayPolicy policy = context.policy();
    int limit = policy.maxRequestBodyBytes();
    if (body.getBody().size() > limit) {
      return reject(tooLarge(body.getBody().size(), limit));
    }
    byte[] received = body.getBody().toByteArray();
    LlmRequest request;
    try {
      request = LlmRequest.parse(received);
    } catch (LlmRequest.BadRequestException e) {
      return reject(e.error());
    }
    ModelTarget target =
        policy.resolve(context.identity().tenant(), request.model()).orElse(null);
    if (target == null && policy.unknownModel() == GatewayPolicy.UnknownModel.REJECT) {
      return reject(new ApiError(
          404,
          ApiError.Kind.NOT_FOUND,
          "model",
          "model_not_found",
          "The model '" + request.model()
              + "' is not available through this gateway (expected one of: "
              + String.join(", ", policy.allowedModels(context.identity().tenant())) + ")"));
    }
    context.request(request.model(), target, request.streaming());
    Answer answer;
    try {
      forwarding(request);
      answer = runStages(received, request);
      context.requestDecided(answer == null);
    } catch (RejectException e) {
      metrics.error(e.error().code() == null ? "client" : e.error().code());
      return Responses.immediate(e.error(), shape(), e.retryAfterSeconds());
    }
    if (answer != null) {
      return Responses.answer(answer, metadata());
    }
    request = requireNonNull(forwardedRequest, "forwardedRequest (expected: set by runStages)");
    CommonResponse.Builder common = CommonResponse.newBuilder();
    HeaderMutation.Builder headers = HeaderMutation.newBuilder();
    if (request.changed()) {
      byte[] forwarded = request.forwarded();
      common.setBodyMutation(
          BodyMutation.newBuilder().setBody(UnsafeByteOperations.unsafeWrap(forwarded)));
      headers.addSetHeaders(
          Responses.setHeader("content-length", Integer.toString(forwarded.length)));
    }
    if (context.target() != null) {
      headers.addSetHeaders(Responses.setHeader(ROUTE_HEADER, context.target().route()));
      common.setClearRouteCache(true);
    }
    if (headers.getSetHeadersCount() > 0) {
      common.setHeaderMutation(headers);
    }
    return ProcessingResponse.newBuilder()
        .setRequestBody(BodyResponse.newBuilder().setResponse(common))
        .setDynamicMetadata(metadata())
        .build();
  }

  /**
   * Opens every stage for the exchange and asks each, in order, about the request; stops at the
   * first that answers it. When a stage retargets the exchange (a budget's downgrade), the stages
   * before it are opened again for the new target and asked about the request as the client sent
   * it, so the context window, the PII policy and the price follow the model the request goes to.
   */
  private @Nullable Answer runStages(byte[] received, LlmRequest request) {
    forwardedRequest = request;
    for (int i = 0; i < listeners.size(); i++) {
      ModelTarget before = context.target();
      ExchangeListener.Observer observer = listeners.get(i).open(context);
      observers.add(observer);
      Answer answer = observer.onRequest(requireNonNull(forwardedRequest, "forwardedRequest"));
      if (answer != null) {
        metrics.answered(listeners.get(i).name());
        return answer;
      }
      if (context.target() != before) {
        answer = rerunBefore(i, received);
        if (answer != null) {
          return answer;
        }
      }
    }
    return null;
  }

  /** Asks stages 0..end-1 again, freshly opened, about the request as received. */
  private @Nullable Answer rerunBefore(int end, byte[] received) {
    LlmRequest fresh;
    try {
      fresh = LlmRequest.parse(received);
    } catch (LlmRequest.BadRequestException e) {
      throw new IllegalStateException("a request parsed once no longer parses", e);
    }
    forwarding(fresh);
    forwardedRequest = fresh;
    context.clearFacts();
    for (int j = 0; j < end; j++) {
      // The replaced per-exchange object is dropped without onEnd: before the request is decided a
      // stage holds nothing that needs settling.
      ExchangeListener.Observer observer = listeners.get(j).open(context);
      observers.set(j, observer);
      Answer answer = observer.onRequest(fresh);
      if (answer != null) {
        metrics.answered(listeners.get(j).name());
        return answer;
      }
    }
    return null;
  }

  /**
   * What the gateway itself changes in a request before the stages see it: the model the policy
   * sends it to, and OpenAI's {@code include_usage} so streamed answers report their usage.
   */
  private void forwarding(LlmRequest request) {
    ModelTarget target = context.target();
    if (target != null && !target.model().equals(request.model())) {
      request.setModel(target.model());
    }
    LlmApi api = requireNonNull(context.api(), "api");
    if (context.policy().includeStreamUsage()
        && request.streaming()
        && !request.hasStreamOptions()
        && (api == LlmApi.OPENAI_CHAT_COMPLETIONS || api == LlmApi.OPENAI_COMPLETIONS)) {
      request.addField(
          "stream_options", JsonNodeFactory.instance.objectNode().put("include_usage", true));
    }
  }

  private ProcessingResponse onResponseHeaders(HttpHeaders headers, @Nullable String provider) {
    int status = 0;
    String contentType = "";
    for (HeaderValue h : headers.getHeaders().getHeadersList()) {
      if (h.getKey().equals(":status")) {
        status = (int) Math.max(0, parseLength(value(h)));
      } else if (h.getKey().equals("content-type")) {
        contentType = value(h).toLowerCase(Locale.ROOT);
      }
    }
    boolean eventStream = contentType.startsWith("text/event-stream");
    context.response(status, eventStream, provider);
    ProcessingResponse.Builder response =
        ProcessingResponse.newBuilder().setResponseHeaders(HeadersResponse.getDefaultInstance());
    if (context.api() != null && provider != null) {
      Struct.Builder tags = Struct.newBuilder();
      put(tags, "provider", provider);
      response.setDynamicMetadata(namespaced(tags));
    }
    if (context.api() != null && !headers.getEndOfStream()) {
      rewriter = rewriters();
    }
    if (rewriter != null) {
      // The rewritten body has another length than the provider's: without content-length Envoy
      // sends it chunked (HTTP/1.1) or framed (HTTP/2). With it, Envoy resets the downstream
      // stream when the lengths disagree, and the client gets a 500 instead of the answer.
      response.setResponseHeaders(HeadersResponse.newBuilder()
          .setResponse(CommonResponse.newBuilder()
              .setHeaderMutation(HeaderMutation.newBuilder().addRemoveHeaders("content-length"))));
    }
    if (context.api() != null
        && !headers.getEndOfStream()
        && (rewriter != null || wantsResponseBody())) {
      if (eventStream) {
        sse = new SseParser(MAX_SSE_EVENT_BYTES);
      } else {
        responseBody = new ByteArrayOutputStream();
      }
      response.setModeOverride(Responses.STREAMED_RESPONSE);
    }
    return response.build();
  }

  private ProcessingResponse onResponseBody(HttpBody body) {
    ResponseRewriter active = rewriter;
    byte[] replacement = active != null ? rewriteResponseBody(body, active) : null;
    if (rewriter == null && replacement == null) {
      watchResponseBody(body);
    }
    ProcessingResponse.Builder answer = ProcessingResponse.newBuilder();
    // A chunk the rewriter left exactly as it was goes on without a mutation, so Envoy does not
    // replace it with a copy of itself (most chunks of a stream whose answer holds no placeholder).
    if (replacement == null
        || body.getBody().equals(UnsafeByteOperations.unsafeWrap(replacement))) {
      answer.setResponseBody(BodyResponse.getDefaultInstance());
    } else {
      BodyMutation.Builder mutation = replacement.length == 0
          ? BodyMutation.newBuilder().setClearBody(true)
          : BodyMutation.newBuilder()
              .setBody(UnsafeByteOperations.unsafeWrap(
                  replacement)); // a fresh array, never written again
      answer.setResponseBody(BodyResponse.newBuilder()
          .setResponse(CommonResponse.newBuilder().setBodyMutation(mutation)));
    }
    if (body.getEndOfStream() && !observers.isEmpty()) {
      for (ExchangeListener.Observer o : observers) {
        o.onResponseEnd();
      }
      Struct.Builder tags = Struct.newBuilder();
      for (ExchangeListener.Observer o : observers) {
        putAll(tags, o.responseMetadata());
      }
      if (tags.getFieldsCount() > 0) {
        answer.setDynamicMetadata(namespaced(tags));
      }
    }
    return answer.build();
  }

  /** Observers watch the provider's body; nothing the client gets changes. */
  private void watchResponseBody(HttpBody body) {
    if (sse != null) {
      for (SseEvent event : sse.feed(body.getBody())) {
        for (ExchangeListener.Observer o : observers) {
          o.onResponseEvent(event);
        }
      }
      reportSkipped(sse);
    } else if (responseBody != null
        && responseBody.size() + body.getBody().size() <= MAX_RESPONSE_INSPECT_BYTES) {
      responseBody.writeBytes(body.getBody().toByteArray());
      if (body.getEndOfStream()) {
        deliverWholeBody(responseBody.toByteArray());
        responseBody = null;
      }
    } else if (responseBody != null || responseTail != null) {
      keepTail(body);
    }
  }

  /**
   * A JSON body over the inspection limit: from now on only its last bytes are kept, and observers
   * get them (with the body's size) at its end instead of the whole body.
   */
  private void keepTail(HttpBody body) {
    BodyTail tail = responseTail;
    if (tail == null) {
      metrics.error("response_too_large_to_inspect");
      tail = new BodyTail(MAX_RESPONSE_TAIL_BYTES);
      ByteArrayOutputStream held = responseBody;
      if (held != null) {
        tail.append(UnsafeByteOperations.unsafeWrap(held.toByteArray()));
      }
      responseBody = null;
      responseTail = tail;
    }
    tail.append(body.getBody());
    if (body.getEndOfStream()) {
      responseTail = null;
      byte[] end = tail.bytes();
      for (ExchangeListener.Observer o : observers) {
        o.onResponseBodyTail(end, tail.totalBytes());
      }
    }
  }

  /** Counts SSE events skipped for their size and tells observers how many bytes went by unread. */
  private void reportSkipped(SseParser parser) {
    SseParser.Skipped skipped = parser.takeSkipped();
    for (int i = 0; i < skipped.events(); i++) {
      metrics.error("sse_event_too_large");
    }
    if (skipped.bytes() > 0) {
      for (ExchangeListener.Observer o : observers) {
        o.onResponseEventSkipped(skipped.bytes());
      }
    }
  }

  /**
   * Observers watch the provider's body and the rewriter decides what the client gets of it: SSE per
   * event as events complete, a JSON body whole at its end. Returns the chunk's replacement, or null
   * when this chunk (and the rest of the body) goes through unchanged because rewriting had to stop.
   */
  private byte @Nullable [] rewriteResponseBody(HttpBody body, ResponseRewriter active) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.getBody().size() + 64);
    if (sse != null) {
      try {
        for (SseParser.Segment segment : sse.feedSegments(body.getBody())) {
          if (segment.oversized()) {
            // Too large to read: it goes through unchanged, after what the rewriter holds.
            out.writeBytes(active.finish());
            out.writeBytes(segment.raw());
            continue;
          }
          if (segment.event() == null) {
            out.writeBytes(segment.raw());
            continue;
          }
          for (ExchangeListener.Observer o : observers) {
            o.onResponseEvent(segment.event());
          }
          out.writeBytes(active.event(segment.event(), segment.raw()));
        }
        reportSkipped(sse);
        if (body.getEndOfStream()) {
          out.writeBytes(active.finish());
          out.writeBytes(sse.drain());
        }
        return out.toByteArray();
      } catch (RuntimeException e) {
        // Stop rewriting; hand over what is held so no byte the provider sent is lost.
        metrics.error("response_rewrite");
        log.warn(
            "stopped rewriting an SSE response ({}); the rest goes through unchanged",
            e.getClass().getSimpleName());
        rewriter = null;
        try {
          out.writeBytes(active.finish());
        } catch (RuntimeException ignored) {
          // the rewriter's held text is lost with it; it is shorter than one placeholder
        }
        out.writeBytes(sse.drain());
        sse = null;
        return out.toByteArray();
      }
    }
    if (responseBody == null) {
      rewriter = null;
      return null;
    }
    if (responseBody.size() + body.getBody().size() > MAX_RESPONSE_INSPECT_BYTES) {
      log.warn(
          "response body over {} bytes; it goes to the client unchanged",
          MAX_RESPONSE_INSPECT_BYTES);
      out.writeBytes(responseBody.toByteArray());
      out.writeBytes(body.getBody().toByteArray());
      keepTail(body);
      rewriter = null;
      return out.toByteArray();
    }
    responseBody.writeBytes(body.getBody().toByteArray());
    if (!body.getEndOfStream()) {
      return new byte[0];
    }
    byte[] whole = responseBody.toByteArray();
    responseBody = null;
    deliverWholeBody(whole);
    try {
      return active.body(whole);
    } catch (RuntimeException e) {
      metrics.error("response_rewrite");
      log.warn(
          "could not rewrite a response body ({}); it goes to the client unchanged",
          e.getClass().getSimpleName());
      return whole;
    } finally {
      rewriter = null;
    }
  }

  private void deliverWholeBody(byte[] whole) {
    for (ExchangeListener.Observer o : observers) {
      o.onResponseBody(whole);
    }
  }

  private @Nullable ResponseRewriter rewriters() {
    List<ResponseRewriter> found = new ArrayList<>(1);
    for (ExchangeListener.Observer o : observers) {
      ResponseRewriter r = o.responseRewriter();
      if (r != null) {
        found.add(r);
      }
    }
    return ResponseRewriters.chain(found, MAX_SSE_EVENT_BYTES);
  }

  private @Nullable ProcessingResponse onInternalFailure(
      ProcessingRequest request, RuntimeException e) {
    metrics.error("internal");
    String ref = UUID.randomUUID().toString();
    boolean requestPhase =
        request.hasRequestHeaders() || request.hasRequestBody() || request.hasRequestTrailers();
    ModelTarget target = context.target();
    String route = target == null ? null : target.route();
    GatewayPolicy.FailureMode mode = context.policy().failureModeFor(route);
    log.error("internal failure in {} (ref {}, failure mode {})", phaseName(request), ref, mode, e);
    if (requestPhase && mode == GatewayPolicy.FailureMode.FAIL_CLOSED) {
      return Responses.immediate(
          new ApiError(
              502,
              ApiError.Kind.GATEWAY,
              null,
              "gateway_internal_error",
              "The gateway failed while processing this request and did not forward it (reference "
                  + ref + ")"),
          shape());
    }
    return ExternalProcessorService.continueResponse(request);
  }

  private boolean wantsResponseBody() {
    for (ExchangeListener l : listeners) {
      if (l.wantsResponseBody(context)) {
        return true;
      }
    }
    return false;
  }

  private ProcessingResponse reject(ApiError error) {
    metrics.error(error.code() == null ? "client" : error.code());
    return Responses.immediate(error, shape());
  }

  private LlmApi.Family shape() {
    LlmApi api = context.api();
    return api == null ? LlmApi.Family.OPENAI : api.family();
  }

  private Struct metadata() {
    Struct.Builder tags = Struct.newBuilder();
    LlmApi api = context.api();
    put(tags, "api", api == null ? null : api.name().toLowerCase(Locale.ROOT));
    put(tags, "requested_model", context.requestedModel());
    ModelTarget retargetedFrom = context.retargetedFrom();
    if (retargetedFrom != null) {
      put(tags, "downgraded_from", retargetedFrom.model());
    }
    if (context.target() != null) {
      put(tags, "route", context.target().route());
      put(tags, "model", context.target().model());
    }
    Identity id = context.identity();
    put(tags, "tenant", id.tenant());
    put(tags, "application", id.application());
    put(tags, "user", id.user());
    put(tags, "api_key_id", id.apiKeyId());
    put(tags, "policy_version", context.policy().version());
    for (ExchangeListener.Observer o : observers) {
      putAll(tags, o.requestMetadata());
    }
    return namespaced(tags);
  }

  private static Struct namespaced(Struct.Builder tags) {
    return Struct.newBuilder()
        .putFields(METADATA_NAMESPACE, Value.newBuilder().setStructValue(tags).build())
        .build();
  }

  private static void put(Struct.Builder b, String key, @Nullable String value) {
    if (value != null) {
      b.putFields(key, Value.newBuilder().setStringValue(value).build());
    }
  }

  /** Listener-supplied entries: strings, booleans and numbers; anything else is written as its string form. */
  private static void putAll(Struct.Builder b, Map<String, Object> entries) {
    for (Map.Entry<String, Object> e : entries.entrySet()) {
      Object v = e.getValue();
      if (v instanceof Number n) {
        b.putFields(
            e.getKey(), Value.newBuilder().setNumberValue(n.doubleValue()).build());
      } else if (v instanceof Boolean flag) {
        b.putFields(e.getKey(), Value.newBuilder().setBoolValue(flag).build());
      } else if (v != null) {
        put(b, e.getKey(), v.toString());
      }
    }
  }

  private void end() {
    if (ended) {
      return;
    }
    ended = true;
    for (ExchangeListener.Observer o : observers) {
      try {
        o.onEnd();
      } catch (RuntimeException e) {
        log.warn("listener failed at end of stream", e);
      }
    }
    observers.clear();
    sse = null;
    responseBody = null;
    responseTail = null;
    rewriter = null;
  }

  private static ApiError tooLarge(long size, int limit) {
    return new ApiError(
        413,
        ApiError.Kind.REQUEST_TOO_LARGE,
        null,
        "request_too_large",
        "request body is " + size + " bytes (expected: at most " + limit + " bytes)");
  }

  private static boolean isJson(String contentType) {
    String base = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return base.equals("application/json")
        || (base.startsWith("application/") && base.endsWith("+json"));
  }

  /**
   * The key in an API-key header; a bearer credential ({@code Authorization: Bearer sk-...}, what
   * OpenAI SDKs send) counts by its token alone, so the same key gets the same fingerprint either way.
   */
  static String apiKey(String header) {
    String v = header.trim();
    return v.regionMatches(true, 0, "Bearer ", 0, 7) ? v.substring(7).trim() : v;
  }

  /** Envoy sends header values in raw_value (bytes); older versions used value. */
  static String value(HeaderValue h) {
    return h.getRawValue().isEmpty() ? h.getValue() : h.getRawValue().toStringUtf8();
  }

  private static long parseLength(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String phaseName(ProcessingRequest request) {
    return request.getRequestCase().name().toLowerCase(Locale.ROOT);
  }
}
