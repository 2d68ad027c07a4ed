package dev.llmgw.controlplane.mockprovider;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of the {@code mock-provider} subcommand. As with the control plane's own settings, each
 * setting {@code foo-bar} is read from the flag {@code --foo-bar=value}, else the environment
 * variable {@code LLMGW_MOCK_FOO_BAR}, else a default for one machine.
 *
 * @param bindHost the address to listen on
 * @param port the port to listen on, 0 for a free one
 * @param latency the delay before the first byte of every answer
 */
record MockProviderConfig(String bindHost, int port, Duration latency) {

  /** Setting name to default value, in the order the usage message lists them. */
  static final Map<String, String> DEFAULTS = defaults();

  static MockProviderConfig fromArgs(String[] args, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    for (String name : DEFAULTS.keySet()) {
      String fromEnv = env.get(envName(name));
      if (fromEnv != null && !fromEnv.isBlank()) {
        values.put(name, fromEnv.trim());
      }
    }
    for (String arg : args) {
      int eq = arg.indexOf('=');
      String name = arg.startsWith("--") && eq > 2 ? arg.substring(2, eq) : null;
      if (name == null || !DEFAULTS.containsKey(name)) {
        throw new IllegalArgumentException(
            "unknown argument: '" + arg + "' (expected one of: " + usage() + ")");
      }
      values.put(name, arg.substring(eq + 1).trim());
    }
    int port = integer(values, "port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    int latencyMs = integer(values, "latency-ms");
    if (latencyMs < 0) {
      throw new IllegalArgumentException("latency-ms: " + latencyMs + " (expected: >= 0)");
    }
    String bindHost = requireNonNull(values.get("bind-host"), "every setting has a default");
    return new MockProviderConfig(bindHost, port, Duration.ofMillis(latencyMs));
  }

  static String envName(String setting) {
    return "LLMGW_MOCK_" + setting.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  static String usage() {
    StringBuilder b = new StringBuilder();
    DEFAULTS.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ")
        .append("--")
        .append(k)
        .append("=<")
        .append(v)
        .append('>'));
    return b.toString();
  }

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("port", "8900");
    d.put("bind-host", "127.0.0.1");
    d.put("latency-ms", "0");
    return Collections.unmodifiableMap(d);
  }

  private static int integer(Map<String, String> values, String name) {
    String raw = values.get(name);
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + raw + "' (expected: an integer)", e);
    }
  }
}
