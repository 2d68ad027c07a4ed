package dev.llmgw.extproc.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Metric names and tags of ext-proc, in one place. Meters are cached so the data path only increments. */
public final class ExtProcMetrics {

  public static final String STREAMS = "llmgw.extproc.streams";
  public static final String PHASE_TIME = "llmgw.extproc.phase.duration";
  public static final String ERRORS = "llmgw.extproc.errors";
  public static final String POLICY_LOADS = "llmgw.extproc.policy.loads";
  public static final String ANSWERED = "llmgw.extproc.answered";

  public static final String TAG_API = "api";
  public static final String TAG_PHASE = "phase";
  public static final String TAG_KIND = "kind";
  public static final String TAG_RESULT = "result";
  public static final String TAG_STAGE = "stage";

  private final MeterRegistry registry;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

  public ExtProcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One ext_proc stream started, by API ("passthrough" for non-LLM traffic). */
  public void streamStarted(String api) {
    counter(STREAMS, TAG_API, api).increment();
  }

  /** Time ext-proc spent answering one message of {@code phase}. */
  public void phase(String phase, Duration took) {
    timers
        .computeIfAbsent(
            phase,
            p -> Timer.builder(PHASE_TIME)
                .tag(TAG_PHASE, p)
                .description("Time ext-proc spends on one ext_proc message, by phase")
                .publishPercentileHistogram()
                .register(registry))
        .record(took);
  }

  /** An error, by kind: the client's (bad_json, unknown_model, ...) or internal. */
  public void error(String kind) {
    counter(ERRORS, TAG_KIND, kind).increment();
  }

  /** A stage answered a request itself, so nothing was forwarded. */
  public void answered(String stage) {
    counter(ANSWERED, TAG_STAGE, stage).increment();
  }

  public void policyLoad(boolean applied) {
    counter(POLICY_LOADS, TAG_RESULT, applied ? "applied" : "rejected").increment();
  }

  private Counter counter(String name, String tag, String value) {
    return counters.computeIfAbsent(
        name + '\0' + value, k -> Counter.builder(name).tag(tag, value).register(registry));
  }
}
