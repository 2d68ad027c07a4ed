package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

/**
 * The {@code absl::Status} Envoy's reply handlers return: OK; FAILED_PRECONDITION, which
 * {@code Filter::onReceiveMessage} treats as a spurious (out-of-order) message; or any other error,
 * which fails the request with a 500 whose details are the message.
 */
record Outcome(Kind kind, String message) {

  enum Kind {
    OK,
    SPURIOUS,
    ERROR
  }

  private static final Outcome OK = new Outcome(Kind.OK, "");

  Outcome {
    requireNonNull(kind, "kind");
    requireNonNull(message, "message");
  }

  static Outcome ok() {
    return OK;
  }

  static Outcome spurious(String message) {
    return new Outcome(Kind.SPURIOUS, message);
  }

  static Outcome error(String message) {
    return new Outcome(Kind.ERROR, message);
  }

  boolean isOk() {
    return kind == Kind.OK;
  }
}
