package dev.llmgw.tls;

import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * A throwaway certificate authority made at test time, so no private key is ever committed: a CA
 * and the certificates it issues (EC P-256, valid for a day, usable for server and client
 * authentication), written as the PEM files the services read.
 */
public final class TestPki {

  private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime());

  private final X500Name name;
  private final KeyPair keys;
  private final X509Certificate certificate;

  private TestPki(X500Name name, KeyPair keys, X509Certificate certificate) {
    this.name = name;
    this.keys = keys;
    this.certificate = certificate;
  }

  /** A self-signed CA named {@code commonName}. */
  public static TestPki newCa(String commonName) {
    X500Name name = new X500Name("CN=" + commonName);
    KeyPair keys = keyPair();
    X509Certificate ca = sign(name, keys, name, keys.getPublic(), builder -> {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    });
    return new TestPki(name, keys, ca);
  }

  /** The CA's own certificate: what peers are told to trust. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes the CA certificate to {@code file} (replaced in one rename), as the trusted-CA file peers read. */
  public void writeCertificate(Path file) {
    replace(file, pem(certificate));
  }

  /**
   * Opens a TLS connection to {@code host:port} (ALPN {@code h2}, as gRPC needs), presenting {@code
   * client} or no certificate when it is null, trusting this CA, and returns the certificate the
   * server presented.
   *
   * @throws SSLException when the handshake is refused
   */
  public X509Certificate servedCertificate(String host, int port, @Nullable Issued client)
      throws IOException {
    try {
      // gRPC's key manager presents the certificate whatever CAs the server lists, as Envoy does.
      AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
      if (client != null) {
        keys.updateIdentityCredentials(
            new X509Certificate[] {client.certificate()}, client.keys().getPrivate());
      }
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("ca", certificate);
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          client == null ? null : new KeyManager[] {keys},
          trust.getTrustManagers(),
          new SecureRandom());
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, port)) {
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        socket.setSSLParameters(parameters);
        try {
          socket.startHandshake();
          // TLS 1.3 reports a refused client certificate only with the first read after the
          // handshake.
          socket.getOutputStream().write(HTTP2_PREFACE);
          socket.getOutputStream().flush();
          if (socket.getInputStream().read() < 0) {
            throw new IOException("the server closed the connection after the handshake");
          }
        } catch (IOException e) {
          throw new SSLException("TLS refused by " + host + ":" + port + ": " + e, e);
        }
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up a TLS client: " + e.getMessage(), e);
    }
  }

  private static final byte[] HTTP2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * A certificate for {@code commonName} with the given subject alternative names (IP addresses
   * where they parse as one, DNS names otherwise), for server and client authentication.
   */
  public Issued issue(String commonName, String... subjectAltNames) {
    KeyPair leafKeys = keyPair();
    X509Certificate leaf =
        sign(name, keys, new X500Name("CN=" + commonName), leafKeys.getPublic(), builder -> {
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
          builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
          builder.addExtension(
              Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
              }));
          if (subjectAltNames.length > 0) {
            GeneralName[] names = new GeneralName[subjectAltNames.length];
            for (int i = 0; i < names.length; i++) {
              names[i] = isIp(subjectAltNames[i])
                  ? new GeneralName(GeneralName.iPAddress, subjectAltNames[i])
                  : new GeneralName(GeneralName.dNSName, subjectAltNames[i]);
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
          }
        });
    return new Issued(leaf, leafKeys);
  }

  /** A certificate and its key pair. */
  public record Issued(X509Certificate certificate, KeyPair keys) {

    /** The certificate in PEM. */
    public String certificatePem() {
      return pem(certificate);
    }

    /** The private key in unencrypted PKCS #8 PEM ({@code -----BEGIN PRIVATE KEY-----}). */
    public String keyPem() {
      try {
        return pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Writes the certificate and key files, each replaced in one rename as rotation tools do. */
    public void writeTo(Path certificateFile, Path keyFile) {
      replace(keyFile, keyPem());
      replace(certificateFile, certificatePem());
    }

    /** The serial number in lower-case hex, as Envoy's {@code /certs} and the services' logs show it. */
    public String serialHex() {
      return certificate.getSerialNumber().toString(16);
    }
  }

  /** PEM of a certificate or of BouncyCastle's PEM objects. */
  public static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /**
   * Replaces {@code file}'s content in one rename (a temporary file beside it moved over it): how
   * Kubernetes and cert-manager rotate files, and the event Envoy's file watch reacts to.
   */
  public static void replace(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), ".rotate", ".tmp");
      Files.writeString(temp, content, StandardCharsets.US_ASCII);
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private interface Extensions {
    void add(X509v3CertificateBuilder builder) throws IOException;
  }

  private static X509Certificate sign(
      X500Name issuer,
      KeyPair issuerKeys,
      X500Name subject,
      java.security.PublicKey subjectKey,
      Extensions extensions) {
    Instant now = Instant.now();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(SERIALS.incrementAndGet()),
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(Duration.ofDays(1))),
        subject,
        subjectKey);
    try {
      extensions.add(builder);
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(
              new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a test certificate: " + e.getMessage(), e);
    }
  }

  private static KeyPair keyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make EC P-256 keys: " + e.getMessage(), e);
    }
  }

  private static boolean isIp(String name) {
    if (!name.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return false;
    }
    try {
      InetAddress.getByName(name);
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
