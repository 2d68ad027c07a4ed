package dev.llmgw.tls;

import static java.util.Objects.requireNonNull;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One side of a mutual-TLS gRPC link, from {@link TlsFiles}: gRPC's own {@link
 * AdvancedTlsX509KeyManager} and {@link AdvancedTlsX509TrustManager} behind {@link
 * TlsServerCredentials} (client certificates required) or {@link TlsChannelCredentials}.
 *
 * <p>The files are checked when loaded: each is readable PEM, the key is PKCS #8 and belongs to the
 * first certificate. Afterwards {@link #watch} compares them with what is in use; a changed set that
 * passes the same checks is handed to the managers and serves every new connection, one that does
 * not is logged and the set in use stays. gRPC's own file refresh is not used: it waits at least a
 * minute between reads and does not check that the key belongs to the certificate, so a half-rotated
 * pair would break every handshake.
 */
public final class MutualTls implements AutoCloseable {

  /** How often the files are compared with the ones in use. */
  public static final Duration RELOAD_INTERVAL = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(MutualTls.class);
  private static final String PKCS8_HEADER = "-----BEGIN PRIVATE KEY-----";

  private final TlsFiles files;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager trustManager;
  private byte[][] inUse = new byte[0][];
  private @Nullable X509Certificate leaf;
  private @Nullable ScheduledFuture<?> task;

  private MutualTls(TlsFiles files, AdvancedTlsX509TrustManager trustManager) {
    this.files = files;
    this.trustManager = trustManager;
  }

  /**
   * Reads and checks the files.
   *
   * @throws IllegalArgumentException naming the setting and file at fault, and what was expected
   */
  public static MutualTls load(TlsFiles files) {
    requireNonNull(files, "files");
    AdvancedTlsX509TrustManager trust;
    try {
      trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(
              AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "the JDK offers no X.509 trust manager: " + e.getMessage(), e);
    }
    MutualTls tls = new MutualTls(files, trust);
    byte[][] contents = {
      read(files.certificate()), read(files.privateKey()), read(files.trustedCa())
    };
    tls.apply(contents);
    log.info("TLS: {}", tls.describe());
    return tls;
  }

  /** Server side: this certificate, and a client certificate leading to the trusted CA required. */
  public ServerCredentials serverCredentials() {
    return TlsServerCredentials.newBuilder()
        .keyManager(keyManager)
        .trustManager(trustManager)
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /**
   * Client side: this certificate presented, the server's chain checked against the trusted CA and
   * its name against the host dialled.
   */
  public ChannelCredentials channelCredentials() {
    return TlsChannelCredentials.newBuilder()
        .keyManager(keyManager)
        .trustManager(trustManager)
        .build();
  }

  /**
   * Reads the files and, when they changed and pass the checks, puts them in use for new
   * connections. Connections already open keep the certificates they were made with.
   *
   * @return whether a new set was put in use
   */
  public synchronized boolean reload() {
    byte[][] contents;
    try {
      contents =
          new byte[][] {read(files.certificate()), read(files.privateKey()), read(files.trustedCa())
          };
    } catch (IllegalArgumentException e) {
      log.warn("TLS files not re-read, the ones in use stay: {}", e.getMessage());
      return false;
    }
    if (Arrays.deepEquals(contents, inUse)) {
      return false;
    }
    try {
      apply(contents);
    } catch (IllegalArgumentException e) {
      // Remembered, so a bad set is reported once and not every interval.
      inUse = contents;
      log.error("TLS files changed but are refused, the ones in use stay: {}", e.getMessage());
      return false;
    }
    log.info("TLS files changed, now in use: {}", describe());
    return true;
  }

  /** Runs {@link #reload} every {@code interval} on {@code scheduler} until {@link #close}. */
  public synchronized void watch(ScheduledExecutorService scheduler, Duration interval) {
    if (task != null) {
      throw new IllegalStateException("already watching " + files);
    }
    task = scheduler.scheduleWithFixedDelay(
        this::reload, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The certificate in use: its subject, serial number and expiry, for logs. */
  public synchronized String describe() {
    X509Certificate leaf = requireNonNull(this.leaf, "leaf");
    return "certificate '" + leaf.getSubjectX500Principal() + "' serial "
        + leaf.getSerialNumber().toString(16) + " valid until "
        + leaf.getNotAfter().toInstant()
        + " from " + files.certificate() + ", peers checked against " + files.trustedCa();
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  private void apply(byte[][] contents) {
    X509Certificate[] chain = certificates(files.certificate(), contents[0]);
    PrivateKey key = privateKey(files.privateKey(), contents[1]);
    X509Certificate[] trusted = certificates(files.trustedCa(), contents[2]);
    requireKeyOf(chain[0], key);
    try {
      trustManager.updateTrustCredentials(trusted);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          files.trustedCa() + ": cannot be used as trusted CA (" + e.getMessage()
              + "; expected: CA certificates in PEM)",
          e);
    }
    keyManager.updateIdentityCredentials(chain, key);
    inUse = contents;
    leaf = chain[0];
  }

  private static byte[] read(PemFile file) {
    try {
      return Files.readAllBytes(file.path());
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          file + ": no such file (expected: a readable PEM file)", e);
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(
          file + ": not readable by this process (expected: a readable PEM file)", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          file + ": cannot be read (" + e.getMessage() + "; expected: a readable PEM file)", e);
    }
  }

  private static X509Certificate[] certificates(PemFile file, byte[] pem) {
    X509Certificate[] certificates;
    try {
      certificates = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          file + ": not PEM certificates (" + e.getMessage()
              + "; expected: one or more -----BEGIN CERTIFICATE----- blocks)",
          e);
    }
    if (certificates.length == 0) {
      throw new IllegalArgumentException(file
          + ": holds no certificate (expected: one or more -----BEGIN CERTIFICATE----- blocks)");
    }
    return certificates;
  }

  private static PrivateKey privateKey(PemFile file, byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    if (!text.contains(PKCS8_HEADER)) {
      throw new IllegalArgumentException(file + ": "
          + (text.contains("-----BEGIN ") && text.contains(" PRIVATE KEY-----")
              ? "a private key in a format other than unencrypted PKCS #8"
              : "holds no private key")
          + " (expected: " + PKCS8_HEADER + ", an RSA or EC key; convert with "
          + "`openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key`)");
    }
    try {
      return CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          file + ": not a usable private key (" + e.getMessage()
              + "; expected: an unencrypted PKCS #8 RSA or EC key in PEM)",
          e);
    }
  }

  /** Signs with the key and verifies with the certificate: the only check that works for every key type. */
  private void requireKeyOf(X509Certificate leaf, PrivateKey key) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default ->
        throw new IllegalArgumentException(
            files.privateKey() + ": a " + key.getAlgorithm() + " key (expected: RSA or EC)");
    };
    boolean matches;
    try {
      byte[] probe = "llmgw key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(probe);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new IllegalArgumentException(
          files.privateKey() + ": is not the key of the certificate '"
              + leaf.getSubjectX500Principal() + "' in " + files.certificate()
              + " (expected: the private key that certificate was issued for)");
    }
  }
}
