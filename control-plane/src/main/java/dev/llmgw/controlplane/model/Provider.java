package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * An upstream LLM provider the gateway forwards to, such as OpenAI's or Anthropic's public API.
 *
 * @param name stable identifier used in route headers, cluster names and metrics ({@code openai})
 * @param address where the provider is reached
 * @param tls whether to speak TLS to it; the SNI and certificate check use {@code address.host()}
 * @param connectTimeout TCP (and TLS) connect timeout
 */
public record Provider(String name, Endpoint address, boolean tls, Duration connectTimeout) {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");

  public Provider {
    requireNonNull(name, "name");
    requireNonNull(address, "address");
    requireNonNull(connectTimeout, "connectTimeout");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name: '" + name + "' (expected: lower-case letters, digits and '-', starting with a letter, at most 63)");
    }
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: > 0)");
    }
  }

  /** A provider from its base URL: {@code https://api.openai.com} means TLS to port 443. */
  public static Provider fromUrl(String name, String baseUrl, Duration connectTimeout) {
    URI uri;
    try {
      uri = URI.create(baseUrl);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("baseUrl: '" + baseUrl + "' (expected: http(s)://host[:port])", e);
    }
    String scheme = uri.getScheme();
    if (uri.getHost() == null || !("https".equals(scheme) || "http".equals(scheme))) {
      throw new IllegalArgumentException("baseUrl: '" + baseUrl + "' (expected: http(s)://host[:port])");
    }
    boolean tls = "https".equals(scheme);
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    return new Provider(name, new Endpoint(uri.getHost(), port), tls, connectTimeout);
  }
}
