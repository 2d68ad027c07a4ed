package dev.llmgw.extproc.server;

import static java.util.Objects.requireNonNull;

/**
 * A typed value one stage produces for an exchange and later stages read, such as the token counts
 * or the cost estimate. Stages declare the facts they {@linkplain ExchangeListener#needs need} and
 * {@linkplain ExchangeListener#produces produce}; a pipeline whose order leaves a need without an
 * earlier producer refuses to start (see {@link Pipeline}). Identity is the instance: declare each
 * fact once, as a constant of the stage that produces it.
 *
 * @param <T> the value's type
 */
public final class Fact<T> {

  private final String name;
  private final Class<T> type;

  private Fact(String name, Class<T> type) {
    this.name = requireNonNull(name, "name");
    this.type = requireNonNull(type, "type");
  }

  public static <T> Fact<T> of(String name, Class<T> type) {
    return new Fact<>(name, type);
  }

  public String name() {
    return name;
  }

  T cast(Object value) {
    return type.cast(value);
  }

  @Override
  public String toString() {
    return name;
  }
}
