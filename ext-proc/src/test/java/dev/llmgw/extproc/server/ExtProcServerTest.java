package dev.llmgw.extproc.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ExtProcServerTest {

  private String name;
  private ExtProcServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    name = InProcessServerBuilder.generateName();
    server = ExtProcServer.start(
        InProcessServerBuilder.forName(name).directExecutor(), Duration.ofSeconds(1));
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.close();
  }

  @Test
  void healthServiceReportsServingForServerAndExtProcService() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(health
            .check(HealthCheckRequest.newBuilder()
                .setService(ExtProcServer.HEALTH_SERVICE_NAME)
                .build())
            .getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void closingReportsNotServingBeforeTheServerStops() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    server.close();
    try {
      ServingStatus status =
          health.check(HealthCheckRequest.getDefaultInstance()).getStatus();
      assertThat(status).isEqualTo(ServingStatus.NOT_SERVING);
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void requestWithoutPhaseFailsTheStreamWithInvalidArgument() throws InterruptedException {
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<ProcessingRequest> requests = ExternalProcessorGrpc.newStub(channel)
        .process(new StreamObserver<>() {
          @Override
          public void onNext(ProcessingResponse value) {}

          @Override
          public void onError(Throwable t) {
            errors.add(t);
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    requests.onNext(ProcessingRequest.getDefaultInstance());
    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(errors).singleElement().satisfies(t -> {
      assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(Status.fromThrowable(t).getDescription())
          .contains("expected one of request_headers");
    });
  }

  @Test
  void everyPhaseIsAnsweredWithAnUnmutatedContinueOfTheSameKind() {
    ProcessingRequest headers = ProcessingRequest.newBuilder()
        .setRequestHeaders(HttpHeaders.newBuilder()
            .setHeaders(HeaderMap.newBuilder()
                .addHeaders(HeaderValue.newBuilder()
                    .setKey(":path")
                    .setRawValue(com.google.protobuf.ByteString.copyFromUtf8("/v1/models")))))
        .build();
    ProcessingResponse response = ExternalProcessorService.continueResponse(headers);
    assertThat(response.getResponseCase())
        .isEqualTo(ProcessingResponse.ResponseCase.REQUEST_HEADERS);
    assertThat(response.getRequestHeaders().getResponse().hasHeaderMutation()).isFalse();
    assertThat(response.getRequestHeaders().getResponse().getClearRouteCache()).isFalse();
    for (ProcessingRequest.RequestCase phase : ProcessingRequest.RequestCase.values()) {
      if (phase == ProcessingRequest.RequestCase.REQUEST_NOT_SET) {
        continue;
      }
      ProcessingRequest request = withPhase(phase);
      assertThat(ExternalProcessorService.continueResponse(request)
              .getResponseCase()
              .name())
          .as("reply to %s", phase)
          .isEqualTo(phase.name());
    }
  }

  private static ProcessingRequest withPhase(ProcessingRequest.RequestCase phase) {
    ProcessingRequest.Builder b = ProcessingRequest.newBuilder();
    switch (phase) {
      case REQUEST_HEADERS -> b.setRequestHeaders(HttpHeaders.getDefaultInstance());
      case RESPONSE_HEADERS -> b.setResponseHeaders(HttpHeaders.getDefaultInstance());
      case REQUEST_BODY ->
        b.setRequestBody(io.envoyproxy.envoy.service.ext_proc.v3.HttpBody.getDefaultInstance());
      case RESPONSE_BODY ->
        b.setResponseBody(io.envoyproxy.envoy.service.ext_proc.v3.HttpBody.getDefaultInstance());
      case REQUEST_TRAILERS ->
        b.setRequestTrailers(
            io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers.getDefaultInstance());
      case RESPONSE_TRAILERS ->
        b.setResponseTrailers(
            io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers.getDefaultInstance());
      default -> throw new IllegalArgumentException("phase: " + phase);
    }
    return b.build();
  }
}
