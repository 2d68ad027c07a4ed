package dev.llmgw.controlplane.xds;

import dev.llmgw.controlplane.ControlPlaneConfig;
import io.envoyproxy.envoy.service.cluster.v3.ClusterDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.endpoint.v3.EndpointDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.listener.v3.ListenerDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.route.v3.RouteDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens for the xDS port, one per kind of caller, each opening only what that caller needs.
 * What is served there is sensitive: Envoy's resources carry the providers' credentials (SDS
 * secrets injected as upstream request headers), the policy feed carries PII policies and key
 * fingerprints, and the spend service accepts records that end up on invoices.
 *
 * <ul>
 *   <li>Envoy's token ({@code --xds-token-file}; Envoy sends it as {@code initial_metadata} on the ADS
 *       {@code grpc_service}) opens the discovery services: ADS and the per-kind ones, SDS included.
 *   <li>ext-proc's token ({@code --ext-proc-token-file}; ext-proc reads it from {@code
 *       --control-plane-token-file}) opens the policy feed and the spend service, never a discovery
 *       service, so a leaked ext-proc token cannot read the providers' credentials.
 * </ul>
 *
 * A call without a known token ends with {@code UNAUTHENTICATED}, one with the other caller's token
 * with {@code PERMISSION_DENIED}, before any service sees it. When only one of the two tokens is
 * configured, the other caller's services refuse everyone. {@code grpc.health.v1.Health} stays
 * open, so probes need no secret.
 *
 * <p>The tokens authenticate; they do not encrypt. Put the port on mutual TLS ({@code --xds-tls-*})
 * or keep it on a trusted network, as the credentials in the resources would otherwise cross it in
 * clear text.
 */
public final class XdsAuthentication implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** The services Envoy's token opens; ext-proc's opens the policy feed and the spend service. */
  static final Set<String> ENVOY_SERVICES = Set.of(
      AggregatedDiscoveryServiceGrpc.SERVICE_NAME,
      ClusterDiscoveryServiceGrpc.SERVICE_NAME,
      EndpointDiscoveryServiceGrpc.SERVICE_NAME,
      ListenerDiscoveryServiceGrpc.SERVICE_NAME,
      RouteDiscoveryServiceGrpc.SERVICE_NAME,
      SecretDiscoveryServiceGrpc.SERVICE_NAME);

  /** The two kinds of caller, each with its own token. */
  enum Caller {
    ENVOY("Envoy", "xds-token-file", "the xDS discovery services"),
    EXT_PROC("ext-proc", "ext-proc-token-file", "the policy feed and the spend service");

    final String label;
    final String setting;
    final String opens;

    Caller(String label, String setting, String opens) {
      this.label = label;
      this.setting = setting;
      this.opens = opens;
    }

    /**
     * The caller a service is for: Envoy's discovery services, else ext-proc's (the policy feed and
     * the spend service; nothing else but the open health service is served on the port).
     */
    static Caller of(String service) {
      return ENVOY_SERVICES.contains(service) ? ENVOY : EXT_PROC;
    }
  }

  private static final long LOG_INTERVAL_MILLIS = 10_000;
  private static final Logger log = LoggerFactory.getLogger(XdsAuthentication.class);

  /** {@code "Bearer <token>"} per caller; null where that caller's token is not configured. */
  private final byte @Nullable [] envoy;

  private final byte @Nullable [] extProc;
  private final AtomicLong nextLog = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong refused = new AtomicLong();

  /**
   * @param envoyToken Envoy's token, or null
   * @param extProcToken ext-proc's token, or null; not both null
   * @param envoySource where Envoy's token comes from, for error messages
   * @param extProcSource where ext-proc's token comes from, for error messages
   */
  XdsAuthentication(
      @Nullable String envoyToken,
      @Nullable String extProcToken,
      String envoySource,
      String extProcSource) {
    if (envoyToken == null && extProcToken == null) {
      throw new IllegalArgumentException(
          "envoyToken, extProcToken: both null (expected: at least one)");
    }
    this.envoy = header(envoyToken, envoySource);
    this.extProc = header(extProcToken, extProcSource);
    if (envoy != null && extProc != null && MessageDigest.isEqual(envoy, extProc)) {
      throw new IllegalArgumentException(envoySource + " and " + extProcSource
          + " hold the same token (expected: different tokens, so ext-proc's cannot read the "
          + "providers' credentials Envoy's resources carry)");
    }
  }

  /**
   * The tokens in the files (surrounding white space, such as a final newline, is ignored), or null
   * when neither file is given.
   */
  public static @Nullable XdsAuthentication fromFiles(
      @Nullable Path envoyTokenFile, @Nullable Path extProcTokenFile) {
    if (envoyTokenFile == null && extProcTokenFile == null) {
      return null;
    }
    return new XdsAuthentication(
        read(envoyTokenFile, Caller.ENVOY.setting),
        read(extProcTokenFile, Caller.EXT_PROC.setting),
        Caller.ENVOY.setting + " " + envoyTokenFile,
        Caller.EXT_PROC.setting + " " + extProcTokenFile);
  }

  /** Whether {@code caller}'s services are open to anyone (their token is configured). */
  boolean configured(Caller caller) {
    return (caller == Caller.ENVOY ? envoy : extProc) != null;
  }

  private static @Nullable String read(@Nullable Path file, String setting) {
    if (file == null) {
      return null;
    }
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(setting + ": cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static byte @Nullable [] header(@Nullable String token, String source) {
    if (token == null) {
      return null;
    }
    return ("Bearer " + ControlPlaneConfig.requireToken(token, source))
        .getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String service = call.getMethodDescriptor().getServiceName();
    if (HealthGrpc.SERVICE_NAME.equals(service)) {
      return next.startCall(call, headers);
    }
    Caller needed = Caller.of(service);
    String presented = headers.get(AUTHORIZATION);
    Caller presentedAs = callerOf(presented);
    if (presentedAs == needed) {
      return next.startCall(call, headers);
    }
    Status status;
    if (!configured(needed)) {
      status = Status.PERMISSION_DENIED.withDescription(needed.label + "'s services ("
          + needed.opens + ") are closed: the control plane runs without --" + needed.setting);
    } else if (presentedAs != null) {
      status = Status.PERMISSION_DENIED.withDescription(presentedAs.label
          + "'s token does not open " + service + " (it opens " + presentedAs.opens + " only)");
    } else if (presented == null) {
      status = Status.UNAUTHENTICATED.withDescription(
          "the xDS port needs 'authorization: Bearer <token>' (the control plane's --"
              + needed.setting + ")");
    } else {
      status = Status.UNAUTHENTICATED.withDescription("wrong bearer token for the xDS port");
    }
    logRefusal(call, status);
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private @Nullable Caller callerOf(@Nullable String presented) {
    if (presented == null) {
      return null;
    }
    byte[] bytes = presented.getBytes(StandardCharsets.US_ASCII);
    if (envoy != null && MessageDigest.isEqual(envoy, bytes)) {
      return Caller.ENVOY;
    }
    if (extProc != null && MessageDigest.isEqual(extProc, bytes)) {
      return Caller.EXT_PROC;
    }
    return null;
  }

  private void logRefusal(ServerCall<?, ?> call, Status status) {
    long refusals = refused.incrementAndGet();
    long now = System.currentTimeMillis();
    long at = nextLog.get();
    if (now >= at && nextLog.compareAndSet(at, now + LOG_INTERVAL_MILLIS)) {
      log.warn(
          "refused {} on the xDS port from {}: {} {} ({} refused so far; this line at most every {} s)",
          call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
          status.getCode(),
          status.getDescription(),
          refusals,
          LOG_INTERVAL_MILLIS / 1000);
    }
  }
}
