package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The live header map of one direction while Envoy holds it; mutations from the processor are applied
 * here in place, like {@code Http::HeaderMap} in Envoy. Names are lower-case; pseudo-headers stay in
 * front.
 */
final class MutableHeaders {

  private final List<Headers.Entry> entries = new ArrayList<>();

  static MutableHeaders copyOf(Headers headers) {
    MutableHeaders copy = new MutableHeaders();
    copy.entries.addAll(headers.entries());
    return copy;
  }

  Optional<String> first(String name) {
    for (Headers.Entry e : entries) {
      if (e.name().equals(name)) {
        return Optional.of(e.value());
      }
    }
    return Optional.empty();
  }

  boolean contains(String name) {
    return first(name).isPresent();
  }

  /** {@code addCopy}: one more value, pseudo-headers kept before regular ones. */
  void add(String name, String value) {
    Headers.Entry entry = new Headers.Entry(name, value);
    if (!name.startsWith(":")) {
      entries.add(entry);
      return;
    }
    int at = 0;
    while (at < entries.size() && entries.get(at).name().startsWith(":")) {
      at++;
    }
    entries.add(at, entry);
  }

  /** {@code setCopy}: the value replaces every existing value of the name, or is added. */
  void set(String name, String value) {
    int first = -1;
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).name().equals(name)) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      add(name, value);
      return;
    }
    entries.set(first, new Headers.Entry(name, value));
    for (int i = entries.size() - 1; i > first; i--) {
      if (entries.get(i).name().equals(name)) {
        entries.remove(i);
      }
    }
  }

  void remove(String name) {
    requireNonNull(name, "name");
    for (Iterator<Headers.Entry> it = entries.iterator(); it.hasNext(); ) {
      if (it.next().name().equals(name)) {
        it.remove();
      }
    }
  }

  int size() {
    return entries.size();
  }

  /** Bytes of names and values, as {@code HeaderMap::byteSize}. */
  long byteSize() {
    long total = 0;
    for (Headers.Entry e : entries) {
      total += e.name().getBytes(StandardCharsets.UTF_8).length
          + e.value().getBytes(StandardCharsets.UTF_8).length;
    }
    return total;
  }

  Headers snapshot() {
    Headers.Builder b = Headers.builder();
    entries.forEach(e -> b.add(e.name(), e.value()));
    return b.build();
  }

  /**
   * The proto Envoy sends: values in {@code raw_value}, because the runtime flag
   * {@code envoy.reloadable_features.send_header_raw_value} is on by default
   * ({@code MutationUtils::headersToProto}); headers {@code forward_rules} exclude are left out.
   */
  HeaderMap toProto(Predicate<String> forwardable) {
    HeaderMap.Builder map = HeaderMap.newBuilder();
    for (Headers.Entry e : entries) {
      if (forwardable.test(e.name())) {
        map.addHeaders(HeaderValue.newBuilder()
            .setKey(e.name())
            .setRawValue(ByteString.copyFrom(e.value(), StandardCharsets.UTF_8)));
      }
    }
    return map.build();
  }
}
