package dev.llmgw.extproc.pii;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;

/** PII counters; tags are entity types and actions only, never values. */
final class PiiMetrics {

  static final String ENTITIES = "llmgw.pii.entities";
  static final String BLOCKED = "llmgw.pii.requests.blocked";
  static final String DETECTION_FAILURES = "llmgw.pii.detection.failures";
  static final String RESTORED = "llmgw.pii.restored";
  static final String RESPONSE_ENTITIES = "llmgw.pii.response.entities";

  private final MeterRegistry registry;
  private final Counter restored;

  PiiMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.restored = Counter.builder(RESTORED)
        .description("Placeholders put back into responses")
        .register(registry);
  }

  void detected(EntityType type, PiiPolicy.Action action, int count) {
    Counter.builder(ENTITIES)
        .description("Personal data found in requests, by type and what was done with it")
        .tag("type", type.tag())
        .tag("action", action.name().toLowerCase(Locale.ROOT))
        .register(registry)
        .increment(count);
  }

  void blocked(String reason) {
    Counter.builder(BLOCKED)
        .description("Requests refused by the PII policy")
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  void detectionFailed(PiiPolicy.OnError onError) {
    Counter.builder(DETECTION_FAILURES)
        .description("Requests whose PII detection failed, by what happened to them")
        .tag("outcome", onError == PiiPolicy.OnError.BLOCK ? "blocked" : "forwarded")
        .register(registry)
        .increment();
  }

  void restored(int count) {
    if (count > 0) {
      restored.increment(count);
    }
  }

  void responseFound(EntityType type, PiiPolicy.ResponseScan mode, int count) {
    Counter.builder(RESPONSE_ENTITIES)
        .description("Personal data found in model output, by type")
        .tag("type", type.tag())
        .tag("action", mode.name().toLowerCase(Locale.ROOT))
        .register(registry)
        .increment(count);
  }
}
