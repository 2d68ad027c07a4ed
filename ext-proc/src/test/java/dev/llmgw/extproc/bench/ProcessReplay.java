package dev.llmgw.extproc.bench;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's side of one {@code Process} stream reduced to a recorded script: the messages the
 * Envoy-faithful driver sent for an exchange, sent again one at a time, each after the answer to the
 * previous one (as Envoy does in BUFFERED and STREAMED modes), then the half-close. It does none of
 * the driver's work (applying mutations, checking them, buffering bodies), so a run costs the
 * processor plus the gRPC transport and little else. Each answer is checked against the answer the
 * processor gave when the script was recorded: same phase, and dynamic metadata where there was
 * some, so a run that starts failing (a rejection, an internal error answered with CONTINUE) fails
 * the benchmark instead of getting faster.
 */
final class ProcessReplay {

  private static final long TIMEOUT_SECONDS = 5;
  private static final Object COMPLETED = new Object();

  private final ExternalProcessorGrpc.ExternalProcessorStub stub;
  private final ProcessingRequest[] script;
  private final ProcessingResponse.ResponseCase[] phases;
  private final boolean[] metadata;

  /** A replay of {@code script} whose answers must look like {@code answers} (same size). */
  ProcessReplay(Channel channel, List<ProcessingRequest> script, List<ProcessingResponse> answers) {
    requireNonNull(channel, "channel");
    if (script.size() != answers.size()) {
      throw new IllegalArgumentException("answers: " + answers.size() + " for " + script.size()
          + " messages (expected: one answer per message)");
    }
    this.stub = ExternalProcessorGrpc.newStub(channel);
    this.script = script.toArray(new ProcessingRequest[0]);
    this.phases = new ProcessingResponse.ResponseCase[answers.size()];
    this.metadata = new boolean[answers.size()];
    for (int i = 0; i < answers.size(); i++) {
      phases[i] = answers.get(i).getResponseCase();
      metadata[i] = answers.get(i).hasDynamicMetadata();
    }
  }

  /** Sends the script once without checking the answers, for recording what they should be. */
  static List<ProcessingResponse> record(Channel channel, List<ProcessingRequest> script) {
    Answers answers = new Answers();
    StreamObserver<ProcessingRequest> requests =
        ExternalProcessorGrpc.newStub(channel).process(answers);
    List<ProcessingResponse> out = new java.util.ArrayList<>();
    for (ProcessingRequest r : script) {
      requests.onNext(r);
      out.add(answers.next());
    }
    requests.onCompleted();
    answers.awaitCompleted();
    return out;
  }

  int messages() {
    return script.length;
  }

  /** One exchange; returns the last answer (the one carrying the exchange's cost). */
  ProcessingResponse run() {
    Answers answers = new Answers();
    StreamObserver<ProcessingRequest> requests = stub.process(answers);
    ProcessingResponse answer = null;
    for (int i = 0; i < script.length; i++) {
      requests.onNext(script[i]);
      answer = answers.next();
      if (answer.getResponseCase() != phases[i] || answer.hasDynamicMetadata() != metadata[i]) {
        requests.onError(new IllegalStateException("replay diverged"));
        throw new IllegalStateException("answer " + i + " is " + answer.getResponseCase()
            + (answer.hasDynamicMetadata() ? " with" : " without") + " dynamic metadata (expected: "
            + phases[i] + (metadata[i] ? " with" : " without")
            + " metadata, as when the script was recorded): " + answer);
      }
    }
    requests.onCompleted();
    answers.awaitCompleted();
    return answer;
  }

  /** The processor's answers as they arrive (at once on a direct executor, from another thread over Netty). */
  private static final class Answers implements StreamObserver<ProcessingResponse> {
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();

    @Override
    public void onNext(ProcessingResponse value) {
      queue.add(value);
    }

    @Override
    public void onError(Throwable t) {
      queue.add(t);
    }

    @Override
    public void onCompleted() {
      queue.add(COMPLETED);
    }

    ProcessingResponse next() {
      Object o = take();
      if (o instanceof ProcessingResponse r) {
        return r;
      }
      throw new IllegalStateException(
          "the processor ended the stream before answering (expected: an answer): " + o,
          o instanceof Throwable t ? t : null);
    }

    void awaitCompleted() {
      Object o = take();
      if (o != COMPLETED) {
        throw new IllegalStateException(
            "expected the processor to close the stream after the half-close, got: " + o,
            o instanceof Throwable t ? t : null);
      }
    }

    private Object take() {
      Object o = queue.poll();
      if (o != null) {
        return o;
      }
      try {
        o = queue.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the processor", e);
      }
      if (o == null) {
        throw new IllegalStateException(
            "the processor did not answer within " + TIMEOUT_SECONDS + " s");
      }
      return o;
    }
  }
}
