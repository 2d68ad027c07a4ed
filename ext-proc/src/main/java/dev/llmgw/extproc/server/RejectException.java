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

  public RejectException(ApiError error) {
    super(requireNonNull(error, "error").message(), null, false, false);
    this.error = error;
  }

  public ApiError error() {
    return error;
  }
}
