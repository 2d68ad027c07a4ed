package dev.llmgw.controlplane.mockprovider;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What the mock does with the next request: faults, extra delay and answer. Immutable so that one
 * request reads one consistent snapshot, and the {@code failNext} countdown is part of the snapshot
 * so that a compare-and-set hands out each injected failure to exactly one request.
 *
 * @param failNextRemaining how many of the following requests still fail with {@code failNextStatus}
 * @param failNextStatus the status of those failures
 * @param failAllStatus a status every request gets, or 0 for none
 * @param delay extra delay before the first byte, on top of the start-up latency
 * @param answer the assistant text, or null to echo the last user message
 * @param chunkChars characters of text per streamed delta event
 */
record Behaviour(
    int failNextRemaining,
    int failNextStatus,
    int failAllStatus,
    Duration delay,
    @Nullable String answer,
    int chunkChars) {

  static final Behaviour DEFAULT = new Behaviour(0, 0, 0, Duration.ZERO, null, 8);

  /** The snapshot the request after this one sees: one injected failure fewer. */
  Behaviour afterRequest() {
    return failNextRemaining == 0 ? this : withFailNext(failNextRemaining - 1, failNextStatus);
  }

  /** The status this request must fail with, or 0 to answer normally; {@code failNext} comes first. */
  int faultStatus() {
    return failNextRemaining > 0 ? failNextStatus : failAllStatus;
  }

  Behaviour withFailNext(int times, int status) {
    return new Behaviour(times, status, failAllStatus, delay, answer, chunkChars);
  }

  Behaviour withFailAll(int status) {
    return new Behaviour(failNextRemaining, failNextStatus, status, delay, answer, chunkChars);
  }

  Behaviour withDelay(Duration d) {
    return new Behaviour(failNextRemaining, failNextStatus, failAllStatus, d, answer, chunkChars);
  }

  Behaviour withAnswer(String text) {
    return new Behaviour(failNextRemaining, failNextStatus, failAllStatus, delay, text, chunkChars);
  }

  Behaviour withChunkChars(int n) {
    return new Behaviour(failNextRemaining, failNextStatus, failAllStatus, delay, answer, n);
  }

  /** The configured answer, else the echo of what the client sent as its last user message. */
  String answerTo(String lastUserText) {
    return answer != null ? answer : "Mock answer: " + lastUserText;
  }
}
