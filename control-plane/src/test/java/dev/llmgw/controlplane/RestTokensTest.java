package dev.llmgw.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the REST API's admin and read-only tokens come from, and the ones it refuses to start with. */
class RestTokensTest {

  @TempDir
  Path dataDir;

  private ControlPlane start(String... extra) {
    String[] args = Stream.concat(
            Stream.of(
                "--xds-port=0",
                "--admin-port=0",
                "--bind-host=127.0.0.1",
                "--ext-proc=127.0.0.1:9002",
                "--store=memory",
                "--data-dir=" + dataDir),
            Stream.of(extra))
        .toArray(String[]::new);
    return ControlPlane.start(
        ControlPlaneConfig.fromArgs(args, Map.of()),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
  }

  @Test
  void aMissingAdminTokenIsGeneratedOwnerOnlyAndTheReadOnlyRoleIsOff() throws Exception {
    Path adminFile = dataDir.resolve("admin-token");
    String admin;
    try (ControlPlane cp = start()) {
      admin = Files.readString(adminFile).strip();
      assertThat(admin).isEqualTo(cp.adminToken()).hasSize(48);
      assertThat(ControlPlaneConfig.requireToken(admin, "generated")).isEqualTo(admin);
      assertThat(dataDir.resolve("read-only-token")).as("never generated").doesNotExist();
      assertThat(get(cp, "/v1/providers", admin).statusCode()).isEqualTo(200);
    }
    try (ControlPlane again = start()) {
      assertThat(again.adminToken()).as("the file is read on the next start").isEqualTo(admin);
    }
    assumeThat(dataDir.getFileSystem().supportedFileAttributeViews()).contains("posix");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(adminFile)))
        .isEqualTo("rw-------");
  }

  @Test
  void aReadOnlyTokenFileGivesTheReadOnlyRole() throws Exception {
    String readOnly = "read-only-from-a-file-0123456789";
    Files.writeString(dataDir.resolve("read-only-token"), readOnly + "\n");
    try (ControlPlane cp = start("--admin-token=admin-from-a-flag-0123456789")) {
      assertThat(get(cp, "/v1/providers", readOnly).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void anEmptyTokenFileRefusesTheStartNamingTheFile() throws Exception {
    Path file = dataDir.resolve("admin-token");
    Files.writeString(file, "\n");
    assertThatThrownBy(this::start)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("admin-token file " + file.toAbsolutePath()
            + " is empty (expected: a token, or no file to have one generated)");
  }

  @Test
  void aOneCharacterTokenFileRefusesTheStart() throws Exception {
    Path file = dataDir.resolve("read-only-token");
    Files.writeString(file, "x\n");
    assertThatThrownBy(this::start)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "read-only-token file " + file.toAbsolutePath() + ": a token of 1 characters")
        .hasMessageContaining("expected: at least 22 printable ASCII characters");
  }

  @Test
  void oneTokenForBothRolesIsRefused() {
    String token = "the-same-token-0123456789";
    assertThatThrownBy(() -> start("--admin-token=" + token, "--read-only-token=" + token))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("read-only token: the same as the admin token (expected: a token of its own)");
  }

  @Test
  void theProcessExitsWithTheMessageAndNoStackTrace() throws Exception {
    Path file = dataDir.resolve("admin-token");
    Files.writeString(file, "");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            ControlPlaneMain.class.getName(),
            "--xds-port=0",
            "--admin-port=0",
            "--store=memory",
            "--data-dir=" + dataDir))
        .redirectErrorStream(true)
        .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isEqualTo(2);
    assertThat(output)
        .contains("control-plane: admin-token file " + file.toAbsolutePath() + " is empty")
        .doesNotContain("Exception");
  }

  private static HttpResponse<String> get(ControlPlane cp, String path, String token)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.adminPort() + path))
                .header("Authorization", "Bearer " + token)
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}
