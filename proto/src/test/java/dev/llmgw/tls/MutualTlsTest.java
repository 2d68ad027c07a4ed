package dev.llmgw.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MutualTlsTest {

  private static final TestPki CA = TestPki.newCa("llmgw test CA");

  @TempDir
  Path dir;

  private TlsFiles files;

  @BeforeEach
  void writeAValidSet() {
    files = new TlsFiles(
        new PemFile("tls-cert-file", dir.resolve("server.crt")),
        new PemFile("tls-key-file", dir.resolve("server.key")),
        new PemFile("tls-client-ca-file", dir.resolve("ca.crt")));
    CA.issue("server", "127.0.0.1")
        .writeTo(files.certificate().path(), files.privateKey().path());
    CA.writeCertificate(files.trustedCa().path());
  }

  @Test
  void aClientWithACertificateOfTheTrustedCaIsServedAndOneWithoutIsRefused() throws Exception {
    TestPki.Issued clientCert = CA.issue("client");
    Path clientDir = Files.createDirectories(dir.resolve("client"));
    clientCert.writeTo(clientDir.resolve("client.crt"), clientDir.resolve("client.key"));
    CA.writeCertificate(clientDir.resolve("ca.crt"));
    TlsFiles clientFiles = new TlsFiles(
        new PemFile("c", clientDir.resolve("client.crt")),
        new PemFile("k", clientDir.resolve("client.key")),
        new PemFile("a", clientDir.resolve("ca.crt")));
    try (MutualTls serverTls = MutualTls.load(files);
        MutualTls clientTls = MutualTls.load(clientFiles)) {
      Server server = healthServer(serverTls);
      ManagedChannel good = NettyChannelBuilder.forAddress(
              "127.0.0.1", server.getPort(), clientTls.channelCredentials())
          .build();
      ManagedChannel anonymous = NettyChannelBuilder.forAddress(
              "127.0.0.1",
              server.getPort(),
              TlsChannelCredentials.newBuilder()
                  .trustManager(files.trustedCa().path().toFile())
                  .build())
          .build();
      try {
        assertThat(check(good)).isEqualTo(ServingStatus.SERVING);
        assertThatThrownBy(() -> check(anonymous))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThatThrownBy(() -> CA.servedCertificate("127.0.0.1", server.getPort(), null))
            .isInstanceOf(SSLException.class);
      } finally {
        good.shutdownNow();
        anonymous.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void replacedFilesServeNewConnectionsAndABadReplacementKeepsTheSetInUse() throws Exception {
    TestPki.Issued client = CA.issue("client");
    try (MutualTls tls = MutualTls.load(files)) {
      Server server = healthServer(tls);
      try {
        assertThat(tls.reload()).as("unchanged files").isFalse();

        TestPki.Issued next = CA.issue("server", "127.0.0.1");
        next.writeTo(files.certificate().path(), files.privateKey().path());
        assertThat(tls.reload()).isTrue();
        assertThat(CA.servedCertificate("127.0.0.1", server.getPort(), client).getSerialNumber())
            .isEqualTo(next.certificate().getSerialNumber());

        // A certificate without its key (the key of another one): refused, the last good set
        // serves.
        TestPki.replace(
            files.certificate().path(), CA.issue("server", "127.0.0.1").certificatePem());
        assertThat(tls.reload()).isFalse();
        assertThat(tls.describe()).contains("serial " + next.serialHex());
        assertThat(CA.servedCertificate("127.0.0.1", server.getPort(), client).getSerialNumber())
            .isEqualTo(next.certificate().getSerialNumber());

        // A client of a CA added to the trusted file gets in without a restart.
        TestPki other = TestPki.newCa("another CA");
        TestPki.Issued outsider = other.issue("outsider");
        assertThatThrownBy(() -> CA.servedCertificate("127.0.0.1", server.getPort(), outsider))
            .isInstanceOf(SSLException.class);
        TestPki.Issued fixed = CA.issue("server", "127.0.0.1");
        fixed.writeTo(files.certificate().path(), files.privateKey().path());
        TestPki.replace(
            files.trustedCa().path(),
            TestPki.pem(CA.certificate()) + TestPki.pem(other.certificate()));
        assertThat(tls.reload()).isTrue();
        assertThat(CA.servedCertificate("127.0.0.1", server.getPort(), outsider).getSerialNumber())
            .isEqualTo(fixed.certificate().getSerialNumber());
      } finally {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aMissingFileStopsTheLoadNamingTheSetting() throws Exception {
    Files.delete(files.privateKey().path());

    assertThatThrownBy(() -> MutualTls.load(files))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-key-file=" + files.privateKey().path()
            + ": no such file (expected: a readable PEM file)");
  }

  @Test
  void anUnreadableFileStopsTheLoadNamingTheSetting() throws Exception {
    // Tests may run as root, who reads any file: a directory is what cannot be read as a file.
    Path directory = Files.createDirectories(dir.resolve("a-directory"));
    TlsFiles unreadable = new TlsFiles(
        files.certificate(), files.privateKey(), new PemFile("tls-client-ca-file", directory));

    assertThatThrownBy(() -> MutualTls.load(unreadable))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--tls-client-ca-file=" + directory + ": cannot be read (")
        .hasMessageEndingWith("; expected: a readable PEM file)");
  }

  @Test
  void aKeyOfAnotherCertificateStopsTheLoad() {
    TestPki.replace(files.privateKey().path(), CA.issue("someone else").keyPem());

    assertThatThrownBy(() -> MutualTls.load(files))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-key-file=" + files.privateKey().path()
            + ": is not the key of the certificate 'CN=server' in --tls-cert-file="
            + files.certificate().path()
            + " (expected: the private key that certificate was issued for)");
  }

  @Test
  void filesThatAreNotWhatTheySayStopTheLoadWithWhatWasExpected() {
    TestPki.replace(files.certificate().path(), "not a certificate\n");
    assertThatThrownBy(() -> MutualTls.load(files))
        .hasMessage("--tls-cert-file=" + files.certificate().path()
            + ": not PEM certificates (No certificate data found; expected: one or more "
            + "-----BEGIN CERTIFICATE----- blocks)");

    CA.issue("server").writeTo(files.certificate().path(), files.privateKey().path());
    TestPki.replace(
        files.privateKey().path(),
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n");
    assertThatThrownBy(() -> MutualTls.load(files))
        .hasMessage("--tls-key-file=" + files.privateKey().path()
            + ": a private key in a format other than unencrypted PKCS #8 (expected: -----BEGIN "
            + "PRIVATE KEY-----, an RSA or EC key; convert with "
            + "`openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key`)");
  }

  @Test
  void settingsGoTogetherOrNotAtAll() {
    Map<String, String> none = Map.of("a", "", "b", "", "c", "");
    assertThat(TlsFiles.fromSettings(none, "a", "b", "c")).isNull();

    Map<String, String> all = Map.of("a", "/x.crt", "b", "/x.key", "c", "/ca.crt");
    assertThat(TlsFiles.fromSettings(all, "a", "b", "c"))
        .isEqualTo(new TlsFiles(
            new PemFile("a", Path.of("/x.crt")),
            new PemFile("b", Path.of("/x.key")),
            new PemFile("c", Path.of("/ca.crt"))));

    Map<String, String> some = Map.of("a", "/x.crt", "b", "", "c", "");
    assertThatThrownBy(() -> TlsFiles.fromSettings(some, "a", "b", "c"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--a, --b, --c go together (expected: all three or none; missing: --b, --c)");
  }

  private static Server healthServer(MutualTls tls) throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    return NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0), tls.serverCredentials())
        .addService(health.getHealthService())
        .build()
        .start();
  }

  private static ServingStatus check(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }
}
