package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An immutable, ordered HTTP header (or trailer) list as Envoy holds it: names lower-cased, duplicate
 * names allowed, pseudo-headers ({@code :method}, {@code :status}, ...) kept in front. Used for what
 * the driver is given and for what it records, so tests compare plain values rather than protos.
 */
public final class Headers {

  /** One header line; the name is lower-case. */
  public record Entry(String name, String value) {
    public Entry {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
    }
  }

  private static final Headers EMPTY = new Headers(List.of());

  private final List<Entry> entries;

  private Headers(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  public static Headers empty() {
    return EMPTY;
  }

  /** Headers from alternating names and values: {@code of(":status", "200", "content-type", "x")}. */
  public static Headers of(String... namesAndValues) {
    requireNonNull(namesAndValues, "namesAndValues");
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("namesAndValues: " + namesAndValues.length
          + " strings (expected: an even number, name then value)");
    }
    Builder builder = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      builder.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return builder.build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The first value of {@code name}, if present. */
  public Optional<String> get(String name) {
    String key = lower(name);
    for (Entry e : entries) {
      if (e.name().equals(key)) {
        return Optional.of(e.value());
      }
    }
    return Optional.empty();
  }

  /** Every value of {@code name}, in order. */
  public List<String> getAll(String name) {
    String key = lower(name);
    List<String> values = new ArrayList<>();
    for (Entry e : entries) {
      if (e.name().equals(key)) {
        values.add(e.value());
      }
    }
    return values;
  }

  public boolean contains(String name) {
    return get(name).isPresent();
  }

  public List<Entry> entries() {
    return entries;
  }

  public int size() {
    return entries.size();
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Headers other && entries.equals(other.entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < entries.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(entries.get(i).name()).append(": ").append(entries.get(i).value());
    }
    return sb.append('}').toString();
  }

  static String lower(String name) {
    return requireNonNull(name, "name").toLowerCase(Locale.ROOT);
  }

  /** Collects headers; pseudo-headers are moved in front of regular ones, as in Envoy's header map. */
  public static final class Builder {
    private final List<Entry> pseudo = new ArrayList<>();
    private final List<Entry> regular = new ArrayList<>();

    private Builder() {}

    public Builder add(String name, String value) {
      requireNonNull(value, "value");
      String key = lower(name);
      if (key.isEmpty()) {
        throw new IllegalArgumentException(
            "header name: empty (expected: a token or a :pseudo-header)");
      }
      (key.startsWith(":") ? pseudo : regular).add(new Entry(key, value));
      return this;
    }

    public Builder addAll(Headers headers) {
      requireNonNull(headers, "headers");
      headers.entries().forEach(e -> add(e.name(), e.value()));
      return this;
    }

    public Headers build() {
      List<Entry> all = new ArrayList<>(pseudo);
      all.addAll(regular);
      return new Headers(all);
    }
  }
}
