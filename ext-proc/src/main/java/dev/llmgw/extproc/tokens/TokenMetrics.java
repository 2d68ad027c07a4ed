package dev.llmgw.extproc.tokens;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Metric names and tags of token counting, in one place. Meters are cached by their tags, so the
 * data path does a map read and an increment. The {@code model} tag is the catalog name, or the
 * policy's target model; models neither knows are tagged {@value #UNLISTED_MODEL}, so clients cannot
 * create series at will.
 */
public final class TokenMetrics {

  /** OpenTelemetry GenAI: tokens per exchange, by {@code gen_ai.token.type} (input/output). */
  public static final String TOKEN_USAGE = "gen_ai.client.token.usage";
  /** Provider-reported token details: cached input, cache-creation input, reasoning. */
  public static final String TOKEN_DETAIL = "llmgw.tokens.detail";
  /** The gateway's own prompt counts on the request path, by method and exactness. */
  public static final String PROMPT_COUNTED = "llmgw.tokens.prompt.counted";
  /** |gateway count − provider report|, by part (prompt/completion) and direction. */
  public static final String COUNT_ERROR = "llmgw.tokens.count.error";
  /** Successful responses that ended without a provider usage report (the gateway's count stood in). */
  public static final String USAGE_MISSING = "llmgw.tokens.usage.missing";
  /** Requests whose prompt could not be counted (a bug; the request was forwarded unchecked). */
  public static final String COUNT_FAILURES = "llmgw.tokens.count.failures";
  /** Provider usage reports that were not believable, by rule; the gateway's count was billed instead. */
  public static final String USAGE_IMPLAUSIBLE = "llmgw.tokens.usage.implausible";

  public static final String TAG_TOKEN_TYPE = "gen_ai.token.type";
  public static final String TAG_REQUEST_MODEL = "gen_ai.request.model";
  /**
   * The provider that served the exchange, as the operator named it and Envoy reported it (not the
   * API shape, not the route); {@value #UNKNOWN_PROVIDER} when Envoy named none.
   */
  public static final String TAG_PROVIDER = "gen_ai.provider.name";

  public static final String TAG_MODEL = "model";
  /** {@code provider}, {@code counted}, {@code estimated} or {@code estimated_from_bytes}. */
  public static final String TAG_SOURCE = "source";
  /** {@code o200k_base}, {@code cl100k_base} or {@code estimate}. */
  public static final String TAG_METHOD = "method";
  /** {@code true} or {@code false}: whether the count should equal the provider's. */
  public static final String TAG_EXACT = "exact";

  public static final String TAG_PART = "part";
  /** {@code over}, {@code under} or {@code match}. */
  public static final String TAG_DIRECTION = "direction";

  public static final String TAG_TYPE = "type";
  /** The {@code UsageBounds} rule a report broke, e.g. {@code prompt_above_context_window}. */
  public static final String TAG_REASON = "reason";

  public static final String UNLISTED_MODEL = "unlisted";
  public static final String UNKNOWN_PROVIDER = "unknown";

  /** Bucket boundaries OpenTelemetry's GenAI conventions give {@code gen_ai.client.token.usage}. */
  private static final double[] OTEL_TOKEN_BUCKETS = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
  };

  private final MeterRegistry registry;
  private final ConcurrentMap<String, DistributionSummary> summaries = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  public TokenMetrics(MeterRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  /** One exchange's input or output tokens ({@code type} "input"/"output"), with where the number came from. */
  void usage(String provider, String model, String type, String source, long tokens) {
    summaries
        .computeIfAbsent(
            TOKEN_USAGE + '\0' + provider + '\0' + model + '\0' + type + '\0' + source,
            k -> DistributionSummary.builder(TOKEN_USAGE)
                .description(
                    "Tokens used per exchange; source says whether the provider reported them or the gateway counted them")
                .serviceLevelObjectives(OTEL_TOKEN_BUCKETS)
                .tag(TAG_PROVIDER, provider)
                .tag(TAG_REQUEST_MODEL, model)
                .tag(TAG_TOKEN_TYPE, type)
                .tag(TAG_SOURCE, source)
                .register(registry))
        .record(tokens);
  }

  void detail(String model, String type, long tokens) {
    counters
        .computeIfAbsent(
            TOKEN_DETAIL + '\0' + model + '\0' + type,
            k -> Counter.builder(TOKEN_DETAIL)
                .description(
                    "Provider-reported token details: cached_input, cache_creation_input, reasoning")
                .tag(TAG_MODEL, model)
                .tag(TAG_TYPE, type)
                .register(registry))
        .increment(tokens);
  }

  void promptCounted(String model, String method, boolean exact, int tokens) {
    summaries
        .computeIfAbsent(
            PROMPT_COUNTED + '\0' + model + '\0' + method + '\0' + exact,
            k -> DistributionSummary.builder(PROMPT_COUNTED)
                .description(
                    "Prompt tokens counted by the gateway before forwarding; exact=false marks estimates and lower bounds")
                .tag(TAG_MODEL, model)
                .tag(TAG_METHOD, method)
                .tag(TAG_EXACT, Boolean.toString(exact))
                .register(registry))
        .record(tokens);
  }

  /** Records |counted − reported| for {@code part} ("prompt"/"completion"). */
  void countError(
      String model, String part, String method, boolean exact, long counted, long reported) {
    long diff = counted - reported;
    String direction = diff > 0 ? "over" : diff < 0 ? "under" : "match";
    summaries
        .computeIfAbsent(
            COUNT_ERROR
                + '\0'
                + model
                + '\0'
                + part
                + '\0'
                + method
                + '\0'
                + exact
                + '\0'
                + direction,
            k -> DistributionSummary.builder(COUNT_ERROR)
                .description(
                    "Absolute difference between the gateway's token count and the provider's report")
                .tag(TAG_MODEL, model)
                .tag(TAG_PART, part)
                .tag(TAG_METHOD, method)
                .tag(TAG_EXACT, Boolean.toString(exact))
                .tag(TAG_DIRECTION, direction)
                .register(registry))
        .record(Math.abs((double) diff));
  }

  void countFailure(String model) {
    counters
        .computeIfAbsent(
            COUNT_FAILURES + '\0' + model,
            k -> Counter.builder(COUNT_FAILURES)
                .description(
                    "Prompts the gateway failed to count; the request was forwarded without counting or limits")
                .tag(TAG_MODEL, model)
                .register(registry))
        .increment();
  }

  void usageImplausible(String model, String reason) {
    counters
        .computeIfAbsent(
            USAGE_IMPLAUSIBLE + '\0' + model + '\0' + reason,
            k -> Counter.builder(USAGE_IMPLAUSIBLE)
                .description(
                    "Provider usage reports that were not believable; the gateway's own count was billed instead")
                .tag(TAG_MODEL, model)
                .tag(TAG_REASON, reason)
                .register(registry))
        .increment();
  }

  void usageMissing(String model) {
    counters
        .computeIfAbsent(
            USAGE_MISSING + '\0' + model,
            k -> Counter.builder(USAGE_MISSING)
                .description(
                    "Successful responses without a provider usage report; the gateway's count was used")
                .tag(TAG_MODEL, model)
                .register(registry))
        .increment();
  }
}
