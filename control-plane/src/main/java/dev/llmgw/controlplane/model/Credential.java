package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * The credential Envoy adds to every request to a provider, e.g. header {@code authorization} with
 * value {@code Bearer sk-…}, or {@code x-api-key} for Anthropic. Write-only: the value is never
 * rendered back by the REST API, logged, or included in an exception; {@link #toString()} hides it.
 */
public record Credential(String header, String value) {

  private static final Pattern HEADER = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");

  public Credential {
    requireNonNull(header, "header");
    requireNonNull(value, "value");
    header = header.toLowerCase(java.util.Locale.ROOT);
    if (!HEADER.matcher(header).matches()) {
      throw new IllegalArgumentException(
          "credential.header: not a valid HTTP header name (expected: a token such as authorization or x-api-key)");
    }
    if (value.isBlank() || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException(
          "credential.value: empty or contains control characters (expected: the header value, e.g. 'Bearer sk-...')");
    }
  }

  @Override
  public String toString() {
    return "Credential[header=" + header + ", value=(hidden)]";
  }
}
