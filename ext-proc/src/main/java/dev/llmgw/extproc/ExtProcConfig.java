package dev.llmgw.extproc;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Startup settings for the ext-proc service. Each comes from a {@code --flag=value} argument, else
 * from an environment variable, else from a default that suits a single local instance.
 *
 * @param grpcPort port of the ext_proc and health gRPC server (0 picks a free port)
 * @param shutdownGrace how long in-flight streams may run on after a shutdown signal
 */
public record ExtProcConfig(int grpcPort, Duration shutdownGrace) {

  static final int DEFAULT_GRPC_PORT = 9002;
  private static final List<String> KNOWN_FLAGS = List.of("grpc-port", "shutdown-grace-seconds");

  public ExtProcConfig {
    if (grpcPort < 0 || grpcPort > 65535) {
      throw new IllegalArgumentException("grpcPort: " + grpcPort + " (expected: 0..65535)");
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("shutdownGrace: " + shutdownGrace + " (expected: >= 0)");
    }
  }

  /** Reads {@code --grpc-port} / {@code EXT_PROC_GRPC_PORT} and {@code --shutdown-grace-seconds} / {@code EXT_PROC_SHUTDOWN_GRACE_SECONDS}. */
  public static ExtProcConfig fromArgs(String[] args, Map<String, String> env) {
    int port = intSetting(args, env, "grpc-port", "EXT_PROC_GRPC_PORT", DEFAULT_GRPC_PORT);
    int grace = intSetting(args, env, "shutdown-grace-seconds", "EXT_PROC_SHUTDOWN_GRACE_SECONDS", 10);
    return new ExtProcConfig(port, Duration.ofSeconds(grace));
  }

  private static int intSetting(String[] args, Map<String, String> env, String flag, String envVar, int def) {
    String prefix = "--" + flag + "=";
    String raw = null;
    for (String arg : args) {
      if (arg.startsWith(prefix)) {
        raw = arg.substring(prefix.length());
      } else if (arg.startsWith("--")) {
        String name = arg.contains("=") ? arg.substring(2, arg.indexOf('=')) : arg.substring(2);
        if (!KNOWN_FLAGS.contains(name)) {
          throw new IllegalArgumentException("unknown flag: " + arg + " (expected one of: --" + String.join(", --", KNOWN_FLAGS) + ")");
        }
      }
    }
    if (raw == null) {
      raw = env.get(envVar);
    }
    if (raw == null || raw.isBlank()) {
      return def;
    }
    try {
      return Integer.parseInt(raw.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": '" + raw + "' (expected: an integer)", e);
    }
  }
}
