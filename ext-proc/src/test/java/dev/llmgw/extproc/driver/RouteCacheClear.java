package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;

/**
 * Envoy cleared the route cache in answer to a processor reply.
 *
 * @param reply the reply that caused it ({@code REQUEST_HEADERS} or {@code REQUEST_BODY})
 * @param beforeRouting true when the request headers had not reached the router yet, so the route is
 *     recomputed from the mutated headers; false when it came too late to change the route
 */
public record RouteCacheClear(ProcessingResponse.ResponseCase reply, boolean beforeRouting) {

  public RouteCacheClear {
    requireNonNull(reply, "reply");
  }
}
