package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/**
 * A host and port, as an operator writes it ({@code ext-proc:9002}, {@code 10.0.0.7:9002}).
 *
 * @param host DNS name or IP literal
 * @param port TCP port, 1..65535
 */
public record Endpoint(String host, int port) {

  public Endpoint {
    requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host: '' (expected: a DNS name or IP address)");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
    }
  }

  /** Parses {@code host:port}; an IPv6 literal is written in brackets, {@code [::1]:9002}. */
  public static Endpoint parse(String hostPort) {
    requireNonNull(hostPort, "hostPort");
    URI uri;
    try {
      uri = URI.create("tcp://" + hostPort.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoint: '" + hostPort + "' (expected: host:port)", e);
    }
    if (uri.getHost() == null
        || uri.getPort() < 0
        || uri.getPath() != null && !uri.getPath().isEmpty()) {
      throw new IllegalArgumentException("endpoint: '" + hostPort + "' (expected: host:port)");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new Endpoint(host, uri.getPort());
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
