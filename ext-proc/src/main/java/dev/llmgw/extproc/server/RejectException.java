package dev.llmgw.extproc.server;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.api.ApiError;

/**
 * Thrown by an {@link ExchangeListener} on the request path to refuse the request with a client
 * error (context window exceeded, budget spent, PII policy says block). Unlike any other exception
 * it is not an internal failure: the client gets {@link #error()} in the called API's error shape.
 */
public final class RejectException extends RuntimeException {

  private static final long serialVersionUID = 1L;
  private final transient ApiError error;
  private final long retryAfterSeconds;

  public RejectException(ApiError error) {
    this(error, -1);
  }

  /** @param retryAfterSeconds sent as the {@code retry-after} header when >= 0 */
  public RejectException(ApiError error, long retryAfterSeconds) {
    super(requireNonNull(error, "error").message(), null, false, false);
    this.error = error;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public ApiError error() {
    return error;
  }

  /** Seconds for the {@code retry-after} header, or -1 for none. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
