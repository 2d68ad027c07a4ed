package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A plain ADS client built on the generated {@code AggregatedDiscoveryService} stub, playing the
 * part of Envoy's xDS client: it sends requests, and the test decides when to ACK or NACK.
 */
final class AdsTestClient implements AutoCloseable {

  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;

  AdsTestClient(ManagedChannel channel, Node node) {
    this.node = node;
    this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
        .streamAggregatedResources(new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse value) {
            inbox.add(value);
          }

          @Override
          public void onError(Throwable t) {
            inbox.add(t);
          }

          @Override
          public void onCompleted() {
            inbox.add(new IllegalStateException("server completed the ADS stream"));
          }
        });
  }

  /** First request for a type, or an ACK when {@code version} and {@code nonce} come from a response. */
  void request(String typeUrl, List<String> names, String version, String nonce) {
    requests.onNext(DiscoveryRequest.newBuilder()
        .setNode(node)
        .setTypeUrl(typeUrl)
        .addAllResourceNames(names)
        .setVersionInfo(version)
        .setResponseNonce(nonce)
        .build());
  }

  void ack(DiscoveryResponse response, List<String> names) {
    request(response.getTypeUrl(), names, response.getVersionInfo(), response.getNonce());
  }

  /** Rejects a response the way Envoy does: the previous good version, the rejected nonce, and why. */
  void nack(DiscoveryResponse response, List<String> names, String lastGoodVersion, String reason) {
    requests.onNext(DiscoveryRequest.newBuilder()
        .setNode(node)
        .setTypeUrl(response.getTypeUrl())
        .addAllResourceNames(names)
        .setVersionInfo(lastGoodVersion)
        .setResponseNonce(response.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(reason))
        .build());
  }

  /** The next responses, one of each of {@code typeUrls} in whatever order the server sends them. */
  java.util.Map<String, DiscoveryResponse> nextOfEach(Duration timeout, String... typeUrls)
      throws InterruptedException {
    java.util.Map<String, DiscoveryResponse> got = new java.util.HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (got.size() < typeUrls.length) {
      Object item = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertThat(item)
          .as("responses of %s within %s (got %s)", List.of(typeUrls), timeout, got.keySet())
          .isNotNull();
      if (item instanceof Throwable t) {
        throw new AssertionError("ADS stream failed", t);
      }
      DiscoveryResponse r = (DiscoveryResponse) item;
      assertThat(List.of(typeUrls)).contains(r.getTypeUrl());
      got.put(r.getTypeUrl(), r);
    }
    return got;
  }

  /** The next response, which must be of {@code typeUrl}. */
  DiscoveryResponse next(String typeUrl, Duration timeout) throws InterruptedException {
    Object item = inbox.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(item).as("a %s response within %s", typeUrl, timeout).isNotNull();
    if (item instanceof Throwable t) {
      throw new AssertionError("ADS stream failed while waiting for " + typeUrl, t);
    }
    DiscoveryResponse response = (DiscoveryResponse) item;
    assertThat(response.getTypeUrl()).isEqualTo(typeUrl);
    return response;
  }

  @Override
  public void close() {
    requests.onCompleted();
  }
}
