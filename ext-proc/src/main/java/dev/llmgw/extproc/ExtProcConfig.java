package dev.llmgw.extproc;

import dev.llmgw.tls.PemFile;
import dev.llmgw.tls.TlsFiles;
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
 * @param controlPlaneTokenFile file holding ext-proc's bearer token for the control plane's xDS port
 *     (the control plane's {@code --ext-proc-token-file}), or null when it requires none
 * @param bindHost address the gRPC and metrics ports bind to
 * @param tls ext-proc's certificate and key, and the CA Envoy's client certificate must lead to:
 *     mutual TLS on the gRPC port; null for plaintext
 * @param controlPlaneTls ext-proc's certificate and key, and the CA the control plane's certificate
 *     must lead to: mutual TLS to the control plane; null for plaintext
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
    @Nullable Path controlPlaneTokenFile,
    String bindHost,
    @Nullable TlsFiles tls,
    @Nullable TlsFiles controlPlaneTls) {

  static final int DEFAULT_GRPC_PORT = 9002;
  private static final Map<String, String> DEFAULTS = Map.ofEntries(
      Map.entry("grpc-port", Integer.toString(DEFAULT_GRPC_PORT)),
      Map.entry("metrics-port", "9003"),
      Map.entry("policy-file", ""),
      Map.entry("policy-reload-seconds", "5"),
      Map.entry("shutdown-grace-seconds", "10"),
      Map.entry("control-plane", ""),
      Map.entry("pii-hash-key-file", ""),
      Map.entry("limits-store", "local"),
      Map.entry("spend-spool-dir", "data/ext-proc/spend"),
      Map.entry("control-plane-token-file", ""),
      // Containers: Envoy reaches ext-proc from another network namespace. deploy/run-local.sh
      // binds
      // 127.0.0.1.
      Map.entry("bind-host", "0.0.0.0"),
      Map.entry("tls-cert-file", ""),
      Map.entry("tls-key-file", ""),
      Map.entry("tls-client-ca-file", ""),
      Map.entry("control-plane-ca-file", ""));

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
    if (bindHost.isBlank()) {
      throw new IllegalArgumentException(
          "bindHost: '' (expected: an address to bind, e.g. 0.0.0.0 or 127.0.0.1)");
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
        optionalPath(values, "control-plane-token-file"),
        value(values, "bind-host"),
        tls(values, "tls-client-ca-file"),
        tls(values, "control-plane-ca-file"));
  }

  /**
   * ext-proc's certificate with the CA in {@code caSetting}, or null when that is not set. One
   * certificate serves both links: Envoy sees it on the gRPC port, the control plane as the client's.
   */
  private static @Nullable TlsFiles tls(Map<String, String> values, String caSetting) {
    boolean certificate = !value(values, "tls-cert-file").isEmpty();
    if (certificate != !value(values, "tls-key-file").isEmpty()) {
      throw new IllegalArgumentException(
          "--tls-cert-file and --tls-key-file go together (expected: both or neither)");
    }
    boolean anyCa = !value(values, "tls-client-ca-file").isEmpty()
        || !value(values, "control-plane-ca-file").isEmpty();
    if (certificate && !anyCa) {
      throw new IllegalArgumentException("--tls-cert-file is set but neither --tls-client-ca-file "
          + "(mutual TLS on the gRPC port) nor --control-plane-ca-file (mutual TLS to the control "
          + "plane) (expected: at least one of them)");
    }
    if (value(values, caSetting).isEmpty()) {
      return null;
    }
    if (!certificate) {
      throw new IllegalArgumentException(
          "--" + caSetting
              + " needs --tls-cert-file and --tls-key-file (expected: ext-proc's own certificate and key)");
    }
    if (caSetting.equals("control-plane-ca-file")
        && value(values, "control-plane").isEmpty()) {
      throw new IllegalArgumentException(
          "--control-plane-ca-file is set without --control-plane (expected: both or neither)");
    }
    return new TlsFiles(
        new PemFile("tls-cert-file", Path.of(value(values, "tls-cert-file"))),
        new PemFile("tls-key-file", Path.of(value(values, "tls-key-file"))),
        new PemFile(caSetting, Path.of(value(values, caSetting))));
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
