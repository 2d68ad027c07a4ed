package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * A model name clients use ({@code fast}, {@code gpt-4o}) and where it goes: a route (a provider
 * name or a named route) and the provider's model name that ext-proc writes into the request.
 */
public record ModelAlias(String name, String route, String model) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");

  public ModelAlias {
    requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name: '" + name + "' (expected: letters, digits and . _ : / -, at most 128)");
    }
    Provider.requireName("route", route);
    requireNonNull(model, "model");
    if (model.isBlank() || model.length() > 256) {
      throw new IllegalArgumentException(
          "model: '" + model + "' (expected: the provider's model name, 1..256 characters)");
    }
  }
}
