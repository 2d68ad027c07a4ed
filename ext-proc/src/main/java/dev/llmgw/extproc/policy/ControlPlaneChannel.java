package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.tls.MutualTls;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The one channel ext-proc keeps to the control plane's xDS port, shared by the policy feed and the
 * spend reporter. When the control plane requires a bearer token of ext-proc there ({@code
 * --ext-proc-token-file}), ext-proc is given the same token ({@code --control-plane-token-file}) and
 * sends it as {@code authorization: Bearer <token>} on every call. That token opens the policy feed
 * and the spend service only, never Envoy's discovery services with the providers' credentials.
 */
public final class ControlPlaneChannel {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private ControlPlaneChannel() {}

  /**
   * A channel to {@code target} ({@code host:port}), over mutual TLS with {@code tls} or plaintext
   * when that is null, carrying the token in {@code tokenFile} (surrounding white space ignored) when
   * that is not null.
   *
   * @throws IllegalArgumentException when the file holds no token or characters a header cannot carry
   * @throws UncheckedIOException when the file cannot be read
   */
  public static ManagedChannel open(
      String target, @Nullable Path tokenFile, @Nullable MutualTls tls) {
    requireNonNull(target, "target");
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(
        target, tls == null ? InsecureChannelCredentials.create() : tls.channelCredentials());
    if (tokenFile != null) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token(tokenFile));
      builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return builder.build();
  }

  static String token(Path file) {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "control-plane-token-file: cannot read " + file + ": " + e.getMessage(), e);
    }
    if (token.isEmpty() || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("control-plane-token-file " + file + ": "
          + (token.isEmpty() ? "is empty" : "holds spaces or characters outside printable ASCII")
          + " (expected: the token in the control plane's --ext-proc-token-file)");
    }
    return token;
  }
}
