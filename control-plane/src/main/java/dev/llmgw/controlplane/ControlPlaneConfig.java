package dev.llmgw.controlplane;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.tls.TlsFiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Startup settings of the control plane. Each setting {@code foo-bar} is read from the flag
 * {@code --foo-bar=value}, else the environment variable {@code LLMGW_CP_FOO_BAR}, else a default
 * that runs everything on one machine.
 *
 * <p>{@code xdsTokenFile} and {@code extProcTokenFile} (null: not set) hold the bearer tokens of the
 * xDS port's two kinds of caller, Envoy and ext-proc; {@code xdsTls} (null: plaintext) puts the port
 * on mutual TLS; {@code extProcTls} (null: plaintext) names the files on the Envoy host with which
 * Envoy reaches ext-proc over mutual TLS.
 */
public record ControlPlaneConfig(
    int xdsPort,
    int adminPort,
    String bindHost,
    int listenerPort,
    List<Endpoint> extProc,
    Duration extProcMessageTimeout,
    List<Provider> providers,
    String defaultProvider,
    String trustedCaFile,
    Duration shutdownGrace,
    String store,
    java.nio.file.Path dataDir,
    String adminToken,
    String readOnlyToken,
    boolean openReads,
    java.nio.file.@Nullable Path xdsTokenFile,
    java.nio.file.@Nullable Path extProcTokenFile,
    @Nullable TlsFiles xdsTls,
    @Nullable ExtProcTls extProcTls) {

  /** Setting name to default value; the order is the order {@code --help} lists them in. */
  static final Map<String, String> DEFAULTS = defaults();

  /**
   * Shortest bearer token accepted (REST and xDS): 128 bits of base64 or hex text are at least this
   * long.
   */
  public static final int MIN_TOKEN_CHARS = 22;

  public ControlPlaneConfig {
    extProc = List.copyOf(extProc);
    providers = List.copyOf(providers);
  }

  @Override
  public String toString() {
    return "ControlPlaneConfig[xdsPort=" + xdsPort + ", adminPort=" + adminPort + ", store=" + store
        + ", dataDir=" + dataDir + ", adminToken="
        + (adminToken.isEmpty() ? "(generated)" : "(set)") + ", readOnlyToken="
        + (readOnlyToken.isEmpty() ? "(file or none)" : "(set)") + ", openReads=" + openReads
        + ", xdsTokenFile=" + xdsTokenFile + ", extProcTokenFile=" + extProcTokenFile + ", xdsTls="
        + xdsTls + ", extProcTls=" + extProcTls + "]";
  }

  /**
   * Returns {@code token} if it is a bearer token worth the name: at least {@link #MIN_TOKEN_CHARS}
   * printable ASCII characters without spaces. The message names {@code source} and never the token.
   */
  public static String requireToken(String token, String source) {
    requireNonNull(token, source);
    if (token.length() < MIN_TOKEN_CHARS || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(source + ": a token of " + token.length()
          + " characters (expected: at least " + MIN_TOKEN_CHARS
          + " printable ASCII characters without spaces, e.g. `openssl rand -base64 32`)");
    }
    return token;
  }

  public static ControlPlaneConfig fromArgs(String[] args, Map<String, String> env) {
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
    Duration connectTimeout = Duration.ofMillis(integer(values, "provider-connect-timeout-ms"));
    List<Provider> providers = new ArrayList<>();
    for (String item : list(values, "providers")) {
      int eq = item.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException(
            "providers: '" + item + "' (expected: name=https://host[:port])");
      }
      providers.add(
          Provider.fromUrl(item.substring(0, eq), item.substring(eq + 1), connectTimeout));
    }
    return new ControlPlaneConfig(
        port(values, "xds-port"),
        port(values, "admin-port"),
        value(values, "bind-host"),
        port(values, "listener-port"),
        list(values, "ext-proc").stream().map(Endpoint::parse).toList(),
        Duration.ofMillis(integer(values, "ext-proc-message-timeout-ms")),
        providers,
        value(values, "default-provider"),
        value(values, "trusted-ca-file"),
        Duration.ofSeconds(integer(values, "shutdown-grace-seconds")),
        store(value(values, "store")),
        java.nio.file.Path.of(value(values, "data-dir")),
        token(values, "admin-token"),
        token(values, "read-only-token"),
        bool(values, "open-reads"),
        optionalPath(values, "xds-token-file"),
        optionalPath(values, "ext-proc-token-file"),
        TlsFiles.fromSettings(
            values, "xds-tls-cert-file", "xds-tls-key-file", "xds-tls-client-ca-file"),
        extProcTls(values));
  }

  /** A setting's value; every setting has a default, so {@code values} holds every name. */
  private static String value(Map<String, String> values, String name) {
    return Objects.requireNonNull(values.get(name), name);
  }

  private static java.nio.file.@Nullable Path optionalPath(
      Map<String, String> values, String name) {
    String raw = value(values, name);
    return raw.isEmpty() ? null : java.nio.file.Path.of(raw);
  }

  /** The files Envoy reaches ext-proc with; paths on the Envoy host, so only their presence is checked. */
  private static @Nullable ExtProcTls extProcTls(Map<String, String> values) {
    TlsFiles files = TlsFiles.fromSettings(
        values, "ext-proc-client-cert-file", "ext-proc-client-key-file", "ext-proc-ca-file");
    return files == null
        ? null
        : new ExtProcTls(
            files.certificate().path().toString(),
            files.privateKey().path().toString(),
            files.trustedCa().path().toString());
  }

  static String envName(String setting) {
    return "LLMGW_CP_" + setting.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  static String usage() {
    StringBuilder b = new StringBuilder();
    DEFAULTS.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ")
        .append("--")
        .append(k)
        .append("=<")
        .append(k.endsWith("-token") ? "secret" : v)
        .append('>'));
    return b.toString();
  }

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("xds-port", "18000");
    d.put("admin-port", "18080");
    d.put("bind-host", "0.0.0.0");
    d.put("listener-port", "10000");
    d.put("ext-proc", "127.0.0.1:9002");
    // ext-proc's request-body phase for a body at the 10 MiB limit took 0.9 s through a real Envoy
    // on a
    // 2-core machine (BodyLimitsEndToEndTest); 1 s made such requests time out (504) under load.
    d.put("ext-proc-message-timeout-ms", "5000");
    d.put("providers", "openai=https://api.openai.com,anthropic=https://api.anthropic.com");
    d.put("default-provider", "openai");
    d.put("provider-connect-timeout-ms", "5000");
    d.put("trusted-ca-file", "/etc/ssl/certs/ca-certificates.crt");
    d.put("shutdown-grace-seconds", "10");
    d.put("store", "file");
    d.put("data-dir", "data/control-plane");
    d.put("admin-token", "");
    d.put("read-only-token", "");
    d.put("open-reads", "false");
    d.put("xds-token-file", "");
    d.put("ext-proc-token-file", "");
    d.put("xds-tls-cert-file", "");
    d.put("xds-tls-key-file", "");
    d.put("xds-tls-client-ca-file", "");
    d.put("ext-proc-client-cert-file", "");
    d.put("ext-proc-client-key-file", "");
    d.put("ext-proc-ca-file", "");
    return java.util.Collections.unmodifiableMap(d);
  }

  private static String store(String value) {
    if (!value.equals("file") && !value.equals("memory")) {
      throw new IllegalArgumentException("store: '" + value + "' (expected: file or memory)");
    }
    return value;
  }

  /** A token setting: empty (generated at start) or a valid token. */
  private static String token(Map<String, String> values, String name) {
    String token = value(values, name);
    return token.isEmpty()
        ? token
        : requireToken(token, name + " (--" + name + " or " + envName(name) + ")");
  }

  private static boolean bool(Map<String, String> values, String name) {
    String raw = value(values, name);
    if (!raw.equals("true") && !raw.equals("false")) {
      throw new IllegalArgumentException(name + ": '" + raw + "' (expected: true or false)");
    }
    return raw.equals("true");
  }

  private static List<String> list(Map<String, String> values, String name) {
    return java.util.Arrays.stream(value(values, name).split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  private static int port(Map<String, String> values, String name) {
    int port = integer(values, name);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + ": " + port + " (expected: 0..65535)");
    }
    return port;
  }

  private static int integer(Map<String, String> values, String name) {
    String raw = value(values, name);
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + raw + "' (expected: an integer)", e);
    }
  }
}
