package dev.llmgw.controlplane.xds.validation;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when Envoy resources name clusters, routes, endpoints or secrets that do not exist. */
public final class IncompleteConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient List<String> problems;

  IncompleteConfigException(List<String> problems) {
    super(message(problems));
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, each a sentence naming the resource and field. */
  public List<String> problems() {
    return problems;
  }

  private static String message(List<String> problems) {
    return "Envoy configuration is not whole: "
        + problems.size()
        + (problems.size() == 1 ? " problem:" : " problems:")
        + problems.stream().map(p -> "\n  " + p).collect(Collectors.joining());
  }
}
