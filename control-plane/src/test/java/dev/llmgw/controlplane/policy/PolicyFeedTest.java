package dev.llmgw.controlplane.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PolicyFeedTest {

  @Test
  void aWatchOpenedDuringAPublishNeverReceivesTheOlderVersionAfterTheNewer() {
    AtomicReference<PolicyFeed> feed = new AtomicReference<>();
    // The publish of version 8 lands between the new watch reading version 7 and sending it.
    feed.set(new PolicyFeed(() -> feed.get().publish(policy("8"))));
    feed.get().publish(policy("7"));

    Recorder watch = new Recorder();
    feed.get()
        .watchPolicy(WatchPolicyRequest.newBuilder().setNodeId("ext-proc-1").build(), watch);

    assertThat(watch.versions()).containsExactly("8");
    feed.get().publish(policy("9"));
    assertThat(watch.versions()).containsExactly("8", "9");
  }

  @Test
  void aWatchGetsTheCurrentPolicyAtOnceAndEveryLaterOne() {
    PolicyFeed feed = new PolicyFeed();
    feed.publish(policy("3"));
    Recorder watch = new Recorder();
    feed.watchPolicy(WatchPolicyRequest.getDefaultInstance(), watch);
    feed.publish(policy("4"));
    feed.publish(policy("4"));

    assertThat(watch.versions())
        .as("the same version published again is not sent again")
        .containsExactly("3", "4");
  }

  @Test
  void publishingAnOlderVersionIsRefusedAndTheCurrentStays() {
    PolicyFeed feed = new PolicyFeed();
    feed.publish(policy("12"));

    assertThatThrownBy(() -> feed.publish(policy("11")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policy version 11 is older than the published version 12");
    assertThatThrownBy(() -> feed.publish(policy("v13")))
        .hasMessageContaining("policy version 'v13' (expected: the store version, a whole number)");
    assertThat(feed.current()).isNotNull().extracting(Policy::getVersion).isEqualTo("12");
  }

  private static Policy policy(String version) {
    return Policy.newBuilder().setVersion(version).build();
  }

  /** A watch's response stream that records what it was sent. */
  private static final class Recorder extends ServerCallStreamObserver<Policy> {
    private final List<Policy> sent = new CopyOnWriteArrayList<>();

    List<String> versions() {
      return sent.stream().map(Policy::getVersion).toList();
    }

    @Override
    public void onNext(Policy value) {
      sent.add(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void disableAutoInboundFlowControl() {}
  }
}
