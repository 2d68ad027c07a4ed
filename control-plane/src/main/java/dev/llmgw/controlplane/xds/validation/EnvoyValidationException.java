package dev.llmgw.controlplane.xds.validation;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when configuration breaks rules Envoy enforces, so Envoy would NACK or refuse it. */
public final class EnvoyValidationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient List<Violation> violations;

  EnvoyValidationException(List<Violation> violations) {
    super(message(violations));
    this.violations = List.copyOf(violations);
  }

  /** Every violation found, in the order the resources and their fields were walked. */
  public List<Violation> violations() {
    return violations;
  }

  private static String message(List<Violation> violations) {
    return violations.size()
        + (violations.size() == 1 ? " violation" : " violations")
        + " of Envoy's configuration rules:"
        + violations.stream().map(v -> "\n  " + v).collect(Collectors.joining());
  }
}
