package dev.llmgw.extproc.server;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.ModelTarget;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What one HTTP exchange carries through its ext_proc stream: the policy snapshot taken at its
 * start, the API detected, who is calling, the route the policy chose and the provider that served
 * it. Owned by one stream; the
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
  private @Nullable String provider;
  private @Nullable Map<Fact<?>, Object> facts;
  private @Nullable ModelTarget retargetedFrom;
  private boolean retargeted;
  private boolean requestDecided;
  private boolean forwarded;

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
   * The provider that served the response, as Envoy said with the response headers ({@link
   * ServedBy}); null before them, for a reply no provider gave, or when Envoy did not say. Not the
   * {@link ModelTarget#route() route}: a route may split traffic between providers or fail over from
   * one to the next.
   */
  public @Nullable String provider() {
    return provider;
  }

  /**
   * Sends the exchange to another model than the policy chose, for example a cheaper one when a
   * budget says to downgrade. Only during {@code onRequest}, once per exchange; the stages before
   * the one retargeting are then asked again for the new target, and ext-proc rewrites the request
   * body's model and the route header.
   */
  public void retarget(ModelTarget newTarget) {
    if (requestDecided) {
      throw new IllegalStateException(
          "retarget: the request was already forwarded (expected: during onRequest)");
    }
    if (retargeted) {
      throw new IllegalStateException("retarget: the exchange was already retargeted to " + target
          + " (expected: at most one retarget per exchange)");
    }
    retargeted = true;
    retargetedFrom = target;
    this.target = java.util.Objects.requireNonNull(newTarget, "newTarget");
  }

  /** The target the policy chose, when a listener {@link #retarget retargeted} the exchange; else null. */
  public @Nullable ModelTarget retargetedFrom() {
    return retargetedFrom;
  }

  /** Puts a fact for the stages after this one (this stage must declare it in {@code produces}). */
  public <T> void put(Fact<T> fact, T value) {
    if (facts == null) {
      facts = new HashMap<>(4);
    }
    facts.put(fact, fact.cast(value));
  }

  /** The value an earlier stage {@link #put} for {@code fact}, or null when it produced none. */
  public <T> @Nullable T get(Fact<T> fact) {
    Object value = facts == null ? null : facts.get(fact);
    return value == null ? null : fact.cast(value);
  }

  /** Forgets every fact: the stages are asked again after a retarget. */
  void clearFacts() {
    facts = null;
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

  void requestDecided(boolean forwarded) {
    this.requestDecided = true;
    this.forwarded = forwarded;
  }

  /**
   * Whether the request went upstream: false while the stages decide, and for good when one of them
   * refused or answered it.
   */
  public boolean forwarded() {
    return forwarded;
  }

  void response(int status, boolean eventStream, @Nullable String provider) {
    this.responseStatus = status;
    this.eventStream = eventStream;
    this.provider = provider;
  }
}
