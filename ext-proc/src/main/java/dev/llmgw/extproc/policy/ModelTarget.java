package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

/**
 * Where a client-facing model name goes.
 *
 * @param provider the route the control plane serves for the provider (the value of the route header)
 * @param model the provider's own model name, written into the request body
 */
public record ModelTarget(String provider, String model) {

  public ModelTarget {
    requireNonNull(provider, "provider");
    requireNonNull(model, "model");
    if (provider.isBlank()) {
      throw new IllegalArgumentException(
          "provider: '' (expected: a provider name such as 'openai')");
    }
    if (model.isBlank()) {
      throw new IllegalArgumentException("model: '' (expected: the provider's model name)");
    }
  }
}
