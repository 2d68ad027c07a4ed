package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An upstream LLM provider the gateway forwards to, such as OpenAI's or Anthropic's public API.
 *
 * @param name stable identifier used in route headers, cluster names and metrics ({@code openai})
 * @param address where the provider is reached
 * @param tls whether to speak TLS to it; SNI and the certificate check use {@code sni}
 * @param sni server name for TLS; defaults to {@code address.host()}
 * @param connectTimeout TCP (and TLS) connect timeout
 * @param credential header Envoy adds to each request to this provider, or null
 * @param healthCheck active health checking, or null for none (outlier detection always applies)
 */
public record Provider(
    String name,
    Endpoint address,
    boolean tls,
    String sni,
    Duration connectTimeout,
    @Nullable Credential credential,
    @Nullable HealthCheck healthCheck) {

  static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");

  public Provider {
    requireName("name", name);
    requireNonNull(address, "address");
    requireNonNull(connectTimeout, "connectTimeout");
    sni = sni == null || sni.isBlank() ? address.host() : sni;
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: > 0)");
    }
  }

  /** A provider from its base URL: {@code https://api.openai.com} means TLS to port 443. */
  public static Provider fromUrl(String name, String baseUrl, Duration connectTimeout) {
    return fromUrl(name, baseUrl, connectTimeout, null);
  }

  public static Provider fromUrl(
      String name, String baseUrl, Duration connectTimeout, @Nullable Credential credential) {
    URI uri;
    try {
      uri = URI.create(requireNonNull(baseUrl, "baseUrl"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "baseUrl: '" + baseUrl + "' (expected: http(s)://host[:port])", e);
    }
    String scheme = uri.getScheme();
    if (uri.getHost() == null
        || !("https".equals(scheme) || "http".equals(scheme))
        || uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
      throw new IllegalArgumentException(
          "baseUrl: '" + baseUrl + "' (expected: http(s)://host[:port] without a path)");
    }
    boolean tls = "https".equals(scheme);
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    Endpoint address = new Endpoint(uri.getHost(), port);
    return new Provider(name, address, tls, address.host(), connectTimeout, credential, null);
  }

  /** This provider with TLS server name {@code sni}. */
  public Provider withSni(String sni) {
    return new Provider(name, address, tls, sni, connectTimeout, credential, healthCheck);
  }

  /** This provider with active health checking (null for none). */
  public Provider withHealthCheck(@Nullable HealthCheck check) {
    return new Provider(name, address, tls, sni, connectTimeout, credential, check);
  }

  /** The base URL this provider was described by. */
  public String baseUrl() {
    int defaultPort = tls ? 443 : 80;
    return (tls ? "https://" : "http://")
        + (address.port() == defaultPort ? hostForUrl() : address.toString());
  }

  private String hostForUrl() {
    return address.host().contains(":") ? "[" + address.host() + "]" : address.host();
  }

  /**
   * Returns {@code name} if it is a name of the gateway's own (provider, route, most REST documents):
   * it ends up in Envoy resource names, headers and logs, so nothing but lower-case letters, digits
   * and '-'.
   */
  public static String requireName(String field, String name) {
    requireNonNull(name, field);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(field + ": '" + name
          + "' (expected: lower-case letters, digits and '-', starting with a letter, at most 63)");
    }
    return name;
  }
}
