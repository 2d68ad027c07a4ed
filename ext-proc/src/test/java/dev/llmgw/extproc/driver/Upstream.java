package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

/**
 * The simulated upstream: given the request exactly as it reached the router, it produces the
 * response. Tests use it both to assert on the upstream request and to script the provider's answer.
 */
@FunctionalInterface
public interface Upstream {

  UpstreamResponse respond(UpstreamRequest request);

  /** An upstream that always answers {@code response}. */
  static Upstream returning(UpstreamResponse response) {
    requireNonNull(response, "response");
    return request -> response;
  }
}
