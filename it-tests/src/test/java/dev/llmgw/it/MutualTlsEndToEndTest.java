package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.llmgw.tls.TestPki;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Envoy, ext-proc and the control plane with mutual TLS on every link between them: the ext_proc
 * stream, ext-proc's policy feed and Envoy's ADS. Streams go through end to end; a client without a
 * certificate of the gateway's CA cannot open an ext_proc stream; certificate files replaced on disk
 * are used without a restart, by ext-proc and by Envoy.
 */
@RequiresEnvoy
class MutualTlsEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY =
      GatewayExtension.withProviders("openai").mutualTls();

  private static final String CHAT =
      "{\"model\":\"smart\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @BeforeAll
  static void alias() {
    // Arrives over the policy feed, itself on mutual TLS.
    GATEWAY.get().put("/v1/models/smart", "{\"route\":\"openai\",\"model\":\"gpt-4o-mini\"}");
  }

  @Test
  void aChatCompletionGoesThroughEnvoyAndExtProcOverMutualTls() {
    Gateway gw = GATEWAY.get();
    gw.provider("openai").clearReceived();

    HttpResponse<String> r = gw.post("/v1/chat/completions", CHAT);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(gw.provider("openai").received())
        .singleElement()
        .satisfies(received -> assertThat(received.bodyText())
            .as("ext-proc rewrote the alias")
            .contains("gpt-4o-mini"));
    assertThat(gw.stat("cluster.llmgw_ext_proc.ssl.handshake")).isPositive();
    assertThat(gw.stat("cluster.llmgw_xds.ssl.handshake")).isPositive();
  }

  @Test
  void aClientWithoutACertificateOfTheGatewaysCaCannotOpenAnExtProcStream() throws Exception {
    Gateway gw = GATEWAY.get();
    Path tls = gw.tlsDir;
    Path client = Files.createDirectories(gw.work.resolve("clients"));
    gw.pki.issue("a-client").writeTo(client.resolve("good.crt"), client.resolve("good.key"));
    TestPki.newCa("someone else's CA")
        .issue("an-outsider")
        .writeTo(client.resolve("outsider.crt"), client.resolve("outsider.key"));

    assertThat(openStream(
            gw,
            TlsChannelCredentials.newBuilder()
                .keyManager(
                    client.resolve("good.crt").toFile(),
                    client.resolve("good.key").toFile())
                .trustManager(tls.resolve("ca.crt").toFile())
                .build()))
        .as("a certificate of the gateway's CA opens a stream")
        .isEqualTo(Status.Code.OK);
    assertThat(openStream(gw, InsecureChannelCredentials.create()))
        .as("plaintext")
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(openStream(
            gw,
            TlsChannelCredentials.newBuilder()
                .trustManager(tls.resolve("ca.crt").toFile())
                .build()))
        .as("TLS without a client certificate")
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(openStream(
            gw,
            TlsChannelCredentials.newBuilder()
                .keyManager(
                    client.resolve("outsider.crt").toFile(),
                    client.resolve("outsider.key").toFile())
                .trustManager(tls.resolve("ca.crt").toFile())
                .build()))
        .as("a certificate of another CA")
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThatThrownBy(() -> gw.pki.servedCertificate("127.0.0.1", gw.extProcPort, null))
        .as("the TLS handshake itself is refused")
        .isInstanceOf(SSLException.class);
  }

  @Test
  void replacedCertificateFilesArePickedUpWithoutARestart() throws Exception {
    Gateway gw = GATEWAY.get();
    Path tls = gw.tlsDir;
    TestPki.Issued probe = gw.pki.issue("probe");

    TestPki.Issued extProc = gw.pki.issue("ext-proc", "127.0.0.1", "localhost");
    extProc.writeTo(tls.resolve("ext-proc.crt"), tls.resolve("ext-proc.key"));
    await("ext-proc serves its new certificate")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> gw.pki
            .servedCertificate("127.0.0.1", gw.extProcPort, probe)
            .getSerialNumber()
            .equals(extProc.certificate().getSerialNumber()));

    // Envoy's client certificate for ext-proc: files the control plane names over SDS.
    TestPki.Issued envoy = gw.pki.issue("envoy", "127.0.0.1", "localhost");
    envoy.writeTo(tls.resolve("envoy.crt"), tls.resolve("envoy.key"));
    await("Envoy uses its new client certificate")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> gw.envoy.admin("/certs").body().contains(envoy.serialHex()));

    assertThat(gw.extProc.isAlive()).isTrue();
    assertThat(gw.extProc.logText())
        .as("ext-proc started once")
        .containsOnlyOnce("ext-proc listening");
    assertThat(gw.post("/v1/chat/completions", CHAT).statusCode()).isEqualTo(200);
  }

  /**
   * Opens an ext_proc stream to ext-proc with {@code credentials} and sends the request headers of
   * a chat completion: OK when ext-proc answers, else how the stream ended.
   */
  private static Status.Code openStream(Gateway gw, ChannelCredentials credentials)
      throws IOException, InterruptedException, java.util.concurrent.TimeoutException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", gw.extProcPort, credentials).build();
    CompletableFuture<Status.Code> outcome = new CompletableFuture<>();
    try {
      StreamObserver<ProcessingRequest> requests = ExternalProcessorGrpc.newStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .process(new StreamObserver<>() {
            @Override
            public void onNext(ProcessingResponse value) {
              outcome.complete(Status.Code.OK);
            }

            @Override
            public void onError(Throwable t) {
              outcome.complete(Status.fromThrowable(t).getCode());
            }

            @Override
            public void onCompleted() {
              outcome.complete(Status.Code.OK);
            }
          });
      requests.onNext(ProcessingRequest.newBuilder()
          .setRequestHeaders(HttpHeaders.newBuilder()
              .setHeaders(HeaderMap.newBuilder()
                  .addHeaders(header(":method", "POST"))
                  .addHeaders(header(":path", "/v1/chat/completions"))
                  .addHeaders(header("content-type", "application/json"))))
          .build());
      Status.Code code = outcome.get(15, TimeUnit.SECONDS);
      requests.onCompleted();
      return code;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static HeaderValue header(String name, String value) {
    return HeaderValue.newBuilder()
        .setKey(name)
        .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(value))
        .build();
  }
}
