package dev.llmgw.extproc.spend;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Metric names and tags of spend reporting, in one place. Every meter the request path touches is
 * registered up front, so {@link SpendReporter#record} only increments.
 */
public final class SpendMetrics {

  /** Records handed to the reporter and queued. */
  public static final String QUEUED = "llmgw.spend.records.queued";
  /** Records the control plane acknowledged (as new or as duplicates). */
  public static final String SHIPPED = "llmgw.spend.records.shipped";
  /** Of the shipped records, those the control plane already had: re-sends after a lost ack or a restart. */
  public static final String DUPLICATES = "llmgw.spend.records.duplicates";
  /** Records lost before reaching the spool, by {@link #TAG_REASON}. */
  public static final String DROPPED = "llmgw.spend.records.dropped";
  /** Records the control plane refused as invalid; they are dropped from the spool. */
  public static final String REJECTED = "llmgw.spend.records.rejected";
  /** Records in the spool, not yet acknowledged by the control plane. */
  public static final String SPOOLED = "llmgw.spend.records.spooled";
  /** Calls to the control plane that failed, by gRPC status {@link #TAG_CODE}; they are retried. */
  public static final String SHIP_FAILURES = "llmgw.spend.ship.failures";

  public static final String TAG_REASON = "reason";
  public static final String TAG_CODE = "code";

  /** Why a record was dropped. */
  public enum DropReason {
    /** The in-memory queue was full: the spool could not keep up. */
    QUEUE_FULL,
    /** The record had no id, so it could not be counted once. */
    INVALID,
    /** The reporter was closed. */
    CLOSED,
    /** The spool reached its size limit: the control plane has been away long. */
    SPOOL_FULL,
    /** Writing the spool failed. */
    SPOOL_ERROR;

    String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final MeterRegistry registry;
  final Counter queued;
  final Counter shipped;
  final Counter duplicates;
  final Counter rejected;
  private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
  private final Map<Status.Code, Counter> failures = new EnumMap<>(Status.Code.class);
  final AtomicLong spooled = new AtomicLong();

  SpendMetrics(MeterRegistry registry) {
    this.registry = registry;
    queued = Counter.builder(QUEUED)
        .description("Spend records queued for the spool")
        .register(registry);
    shipped = Counter.builder(SHIPPED)
        .description("Spend records the control plane acknowledged")
        .register(registry);
    duplicates = Counter.builder(DUPLICATES)
        .description("Shipped spend records the control plane already had (re-sends)")
        .register(registry);
    rejected = Counter.builder(REJECTED)
        .description("Spend records the control plane refused as invalid; dropped")
        .register(registry);
    for (DropReason r : DropReason.values()) {
      dropped.put(
          r,
          Counter.builder(DROPPED)
              .tag(TAG_REASON, r.tag())
              .description("Spend records lost before reaching the spool")
              .register(registry));
    }
    // A reporter started again in the same process (tests) takes over the gauge of the one before.
    Gauge previous = registry.find(SPOOLED).gauge();
    if (previous != null) {
      registry.remove(previous);
    }
    Gauge.builder(SPOOLED, spooled, AtomicLong::get)
        .description("Spend records spooled locally, not yet acknowledged by the control plane")
        .register(registry);
  }

  void dropped(DropReason reason, int records) {
    requireNonNull(dropped.get(reason), "dropped counter").increment(records); // one per reason
  }

  /** Only the reporter's thread calls this, so the lazily filled map needs no lock. */
  void shipFailure(Status.Code code) {
    failures
        .computeIfAbsent(
            code,
            c -> Counter.builder(SHIP_FAILURES)
                .tag(TAG_CODE, c.name())
                .description("Failed calls shipping spend to the control plane; retried")
                .register(registry))
        .increment();
  }
}
