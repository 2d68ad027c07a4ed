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
    requireName("name", name);
    Provider.requireName("route", route);
    requireNonNull(model, "model");
    if (model.isBlank() || model.length() > 256) {
      throw new IllegalArgumentException(
          "model: '" + model + "' (expected: the provider's model name, 1..256 characters)");
    }
  }

  /**
   * Returns {@code name} if it may name a model: names that come from outside the gateway (a
   * provider's model names such as {@code gpt-4.1}) need upper case, '.', ':' and '/' as well.
   */
  public static String requireName(String field, String name) {
    requireNonNull(name, field);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          field + ": '" + name + "' (expected: letters, digits and . _ : / -, at most 128)");
    }
    return name;
  }
}
