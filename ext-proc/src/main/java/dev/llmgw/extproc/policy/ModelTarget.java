package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

/**
 * Where a client-facing model name goes: the route the policy chose, not the provider that will
 * serve it (a route may split traffic between providers or fail over from one to the next; which one
 * answered is only known from Envoy's response, see {@code StreamContext.provider()}).
 *
 * @param route the value of the route header: a route name, or a provider name (every provider has
 *     a route of its own name)
 * @param model the model name written into the request body
 */
public record ModelTarget(String route, String model) {

  public ModelTarget {
    requireNonNull(route, "route");
    requireNonNull(model, "model");
    if (route.isBlank()) {
      throw new IllegalArgumentException(
          "route: '' (expected: a route or provider name such as 'openai')");
    }
    if (model.isBlank()) {
      throw new IllegalArgumentException("model: '' (expected: the provider's model name)");
    }
  }
}
