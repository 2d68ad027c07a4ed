package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.ModelTarget;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What one HTTP exchange carries through its ext_proc stream: the policy snapshot taken at its
 * start, the API detected, who is calling and where the request went. Owned by one stream; the
 * gRPC runtime delivers a stream's messages one at a time, so no locking is needed.
 */
public final class StreamContext {

  private final GatewayPolicy policy;
  private @Nullable LlmApi api;
  private Identity identity = Identity.ANONYMOUS;
  private @Nullable String requestedModel;
  private @Nullable ModelTarget target;
  private boolean streaming;
  private int responseStatus;
  private boolean eventStream;
  private @Nullable Map<Class<?>, Object> attachments;
  private @Nullable ModelTarget retargetedFrom;
  private boolean requestDecided;

  StreamContext(GatewayPolicy policy) {
    this.policy = policy;
  }

  public GatewayPolicy policy() {
    return policy;
  }

  /** The LLM API called, or null for pass-through traffic. */
  public @Nullable LlmApi api() {
    return api;
  }

  public Identity identity() {
    return identity;
  }

  /** The model the client asked for, as written; null until the request body was read. */
  public @Nullable String requestedModel() {
    return requestedModel;
  }

  /** Where the policy sent the request, or null when the model was passed through unmapped. */
  public @Nullable ModelTarget target() {
    return target;
  }

  /** Whether the client asked for a streamed (SSE) answer. */
  public boolean streaming() {
    return streaming;
  }

  public int responseStatus() {
    return responseStatus;
  }

  /** Whether the response is {@code text/event-stream}. */
  public boolean eventStream() {
    return eventStream;
  }

  /**
   * Sends the exchange to another model than the policy chose, for example a cheaper one when a
   * budget says to downgrade. Only during {@code onRequestBody}; ext-proc then rewrites the request
   * body's model and the route header.
   */
  public void retarget(ModelTarget newTarget) {
    if (requestDecided) {
      throw new IllegalStateException(
          "retarget: the request was already forwarded (expected: during onRequestBody)");
    }
    if (retargetedFrom == null) {
      retargetedFrom = target;
    }
    this.target = java.util.Objects.requireNonNull(newTarget, "newTarget");
  }

  /** The target the policy chose, when a listener {@link #retarget retargeted} the exchange; else null. */
  public @Nullable ModelTarget retargetedFrom() {
    return retargetedFrom;
  }

  /**
   * Publishes a per-exchange object for the listeners after this one (token counting publishes its
   * observer, so cost and budgets read the counts without counting again).
   */
  public <T> void attach(Class<T> type, T value) {
    if (attachments == null) {
      attachments = new HashMap<>(4);
    }
    attachments.put(type, type.cast(value));
  }

  /** What an earlier listener {@link #attach attached} under {@code type}, or null. */
  public <T> @Nullable T attachment(Class<T> type) {
    return attachments == null ? null : type.cast(attachments.get(type));
  }

  void api(LlmApi api) {
    this.api = api;
  }

  void identity(Identity identity) {
    this.identity = identity;
  }

  void request(String requestedModel, @Nullable ModelTarget target, boolean streaming) {
    this.requestedModel = requestedModel;
    this.target = target;
    this.streaming = streaming;
  }

  void requestDecided() {
    requestDecided = true;
  }

  void response(int status, boolean eventStream) {
    this.responseStatus = status;
    this.eventStream = eventStream;
  }
}
