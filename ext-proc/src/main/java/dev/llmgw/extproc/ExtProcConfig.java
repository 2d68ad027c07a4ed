package dev.llmgw.extproc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Startup settings for the ext-proc service. Each comes from a {@code --flag=value} argument, else
 * from an environment variable ({@code EXT_PROC_} + the flag in upper case with '_'), else a
 * default that suits a single local instance.
 *
 * @param grpcPort port of the ext_proc and health gRPC server (0 picks a free port)
 * @param metricsPort port of the Prometheus scrape endpoint {@code /metrics} (0 picks a free port)
 * @param policyFile policy file to load and watch, or null to run the built-in pass-through policy
 * @param policyReload how often the policy file is checked for changes
 * @param shutdownGrace how long in-flight streams may run on after a shutdown signal
 * @param controlPlane {@code host:port} of the control plane's gRPC (xDS) port whose policy feed to
 *     watch, or "" to run standalone on the policy file
 * @param piiHashKeyFile file whose bytes key the HMAC of the PII policy's {@code hash} action, so hashes
 *     agree across restarts and replicas; null for a random key per process
 * @param limitsStore where budget and rate-limit counters live: {@code local} (this process only) or
 *     {@code redis://host:port} (shared by every ext-proc replica)
 * @param spendSpoolDir where spend records wait (fsync'd) until the control plane's ledger acknowledges
 *     them; used only with {@code controlPlane}
 * @param controlPlaneTokenFile file holding the bearer token the control plane's xDS port requires
 *     (its {@code --xds-token-file}), or null when it requires none
 */
public record ExtProcConfig(
    int grpcPort,
    int metricsPort,
    @Nullable Path policyFile,
    Duration policyReload,
    Duration shutdownGrace,
    String controlPlane,
    @Nullable Path piiHashKeyFile,
    String limitsStore,
    Path spendSpoolDir,
    @Nullable Path controlPlaneTokenFile) {

  static final int DEFAULT_GRPC_PORT = 9002;
  private static final Map<String, String> DEFAULTS = Map.of(
      "grpc-port", Integer.toString(DEFAULT_GRPC_PORT),
      "metrics-port", "9003",
      "policy-file", "",
      "policy-reload-seconds", "5",
      "shutdown-grace-seconds", "10",
      "control-plane", "",
      "pii-hash-key-file", "",
      "limits-store", "local",
      "spend-spool-dir", "data/ext-proc/spend",
      "control-plane-token-file", "");

  public ExtProcConfig {
    requirePort("grpcPort", grpcPort);
    requirePort("metricsPort", metricsPort);
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("shutdownGrace: " + shutdownGrace + " (expected: >= 0)");
    }
    if (!limitsStore.equals("local") && redisAddress(limitsStore) == null) {
      throw new IllegalArgumentException(
          "limitsStore: '" + limitsStore + "' (expected: local or redis://host:port)");
    }
    if (policyReload.isNegative() || policyReload.isZero()) {
      throw new IllegalArgumentException("policyReload: " + policyReload + " (expected: > 0)");
    }
  }

  public static ExtProcConfig fromArgs(String[] args, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    DEFAULTS.keySet().forEach(name -> {
      String v = env.get("EXT_PROC_" + name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
      if (v != null && !v.isBlank()) {
        values.put(name, v.trim());
      }
    });
    for (String arg : args) {
      int eq = arg.indexOf('=');
      String name = arg.startsWith("--") && eq > 2 ? arg.substring(2, eq) : null;
      if (name == null || !DEFAULTS.containsKey(name)) {
        throw new IllegalArgumentException("unknown flag: " + arg + " (expected one of: --"
            + String.join("=..., --", new java.util.TreeSet<>(DEFAULTS.keySet())) + "=...)");
      }
      values.put(name, arg.substring(eq + 1).trim());
    }
    return new ExtProcConfig(
        integer(values, "grpc-port"),
        integer(values, "metrics-port"),
        optionalPath(values, "policy-file"),
        Duration.ofSeconds(integer(values, "policy-reload-seconds")),
        Duration.ofSeconds(integer(values, "shutdown-grace-seconds")),
        value(values, "control-plane"),
        optionalPath(values, "pii-hash-key-file"),
        value(values, "limits-store"),
        Path.of(value(values, "spend-spool-dir")),
        optionalPath(values, "control-plane-token-file"));
  }

  /** A flag's value; every flag has a default, so {@code values} holds every name. */
  private static String value(Map<String, String> values, String name) {
    return Objects.requireNonNull(values.get(name), name);
  }

  private static @Nullable Path optionalPath(Map<String, String> values, String name) {
    String raw = value(values, name);
    return raw.isEmpty() ? null : Path.of(raw);
  }

  /** {@code host:port} of a {@code redis://host:port} store, or null when {@code store} is not one. */
  static java.net.@Nullable InetSocketAddress redisAddress(String store) {
    if (!store.startsWith("redis://")) {
      return null;
    }
    String rest = store.substring("redis://".length());
    int colon = rest.lastIndexOf(':');
    if (colon <= 0 || rest.contains("/")) {
      return null;
    }
    try {
      int port = Integer.parseInt(rest.substring(colon + 1));
      return port > 0 && port <= 65535
          ? java.net.InetSocketAddress.createUnresolved(rest.substring(0, colon), port)
          : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static int integer(Map<String, String> values, String name) {
    String raw = value(values, name);
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + raw + "' (expected: an integer)", e);
    }
  }

  private static void requirePort(String name, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + ": " + port + " (expected: 0..65535)");
    }
  }
}
