package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.ControlPlaneConfig;
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
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shared bearer token for the xDS port. What is served there is sensitive: the Envoy resources
 * carry the providers' credentials (injected as upstream request headers), the policy feed carries
 * PII policies and key fingerprints, and the spend service accepts records that end up on invoices.
 * With a token configured, every call must carry {@code authorization: Bearer <token>} (Envoy:
 * {@code initial_metadata} on the ADS {@code grpc_service}; ext-proc: {@code
 * --control-plane-token-file}); others end with {@code UNAUTHENTICATED} before any service sees them.
 * {@code grpc.health.v1.Health} stays open, so probes need no secret.
 *
 * <p>The token authenticates; it does not encrypt. Run the port on a trusted network or inside a mesh
 * with mTLS (Istio), as the credentials in the resources would otherwise cross it in clear text.
 */
public final class XdsAuthentication implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final long LOG_INTERVAL_MILLIS = 10_000;
  private static final Logger log = LoggerFactory.getLogger(XdsAuthentication.class);

  private final byte[] expected;
  private final AtomicLong nextLog = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong refused = new AtomicLong();

  /** @param source where the token comes from, for the error message */
  XdsAuthentication(String token, String source) {
    this.expected = ("Bearer " + ControlPlaneConfig.requireToken(token, source))
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** The token in {@code file} (surrounding white space, such as a final newline, is ignored). */
  public static XdsAuthentication fromFile(Path file) {
    requireNonNull(file, "file");
    String token;
    try {
      token = Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "xds-token-file: cannot read " + file + ": " + e.getMessage(), e);
    }
    return new XdsAuthentication(token, "xds-token-file " + file);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String presented = headers.get(AUTHORIZATION);
    if (presented != null
        && MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII))) {
      return next.startCall(call, headers);
    }
    long refusals = refused.incrementAndGet();
    long now = System.currentTimeMillis();
    long at = nextLog.get();
    if (now >= at && nextLog.compareAndSet(at, now + LOG_INTERVAL_MILLIS)) {
      log.warn(
          "refused {} on the xDS port from {}: {} bearer token ({} refused so far; this line at most every {} s)",
          call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
          presented == null ? "no" : "a wrong",
          refusals,
          LOG_INTERVAL_MILLIS / 1000);
    }
    call.close(
        Status.UNAUTHENTICATED.withDescription(
            presented == null
                ? "the xDS port needs 'authorization: Bearer <token>' (the control plane's --xds-token-file)"
                : "wrong bearer token for the xDS port"),
        new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
