package dev.llmgw.extproc;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar ext-proc.jar health [host:port]}: asks a running ext-proc's gRPC health service
 * and exits 0 when it is SERVING, 1 otherwise. For scripts and exec probes without grpcurl.
 */
final class HealthProbe {

  private HealthProbe() {}

  static int run(String target) {
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      ServingStatus status = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance())
          .getStatus();
      System.out.println(target + ": " + status);
      return status == ServingStatus.SERVING ? 0 : 1;
    } catch (StatusRuntimeException e) {
      System.out.println(
          target + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }
}
