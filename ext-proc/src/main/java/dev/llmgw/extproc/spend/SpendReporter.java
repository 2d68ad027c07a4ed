package dev.llmgw.extproc.spend;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.spend.SpendMetrics.DropReason;
import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets every exchange's spend from ext-proc into the control plane's ledger without slowing the
 * request path down. {@link #record} only puts the record in a bounded queue. One background
 * thread writes queued records to a local spool (fsync per batch), ships the spool in batches over
 * {@code llmgw.spend.v1.SpendService}, and drops records from the spool only once the control plane
 * has acknowledged them, which it does only once they are durable in its ledger. While the control
 * plane is away the spool grows and shipping is retried with exponential backoff; on start, the
 * spool left by the previous run is sent first. Records carry unique ids, so a record sent twice
 * (ack lost, crash before the spool advanced) is counted once.
 *
 * <p>What can be lost, and when, is in {@code docs/ledger.md}. In short: the records still in the
 * queue at a kill -9 (normally only those that arrived during the last spool write), and records
 * dropped because the queue or the spool was full, which are counted in {@value
 * SpendMetrics#DROPPED}.
 */
public final class SpendReporter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SpendReporter.class);

  /** Most records written to the spool with one fsync. */
  static final int SPOOL_WRITE_RECORDS = 1000;

  private static final long LOG_INTERVAL_MILLIS = 60_000;
  private static final Object CLOSE = new Object();

  /**
   * How the reporter queues, spools and ships.
   *
   * @param queueCapacity records the in-memory queue holds; more are dropped
   * @param maxBatch records per call to the control plane (at most 10000, the control plane's limit)
   * @param deadline how long one call may take
   * @param minBackoff first wait after a failed call; doubles up to {@code maxBackoff}, with jitter
   * @param maxSpoolBytes the spool's size limit; records beyond it are dropped
   * @param compactSpoolBytes the acknowledged part of the spool is dropped once it is this large
   * @param reporterId sent with every batch, for the control plane's logs and journal
   */
  public record Settings(
      int queueCapacity,
      int maxBatch,
      Duration deadline,
      Duration minBackoff,
      Duration maxBackoff,
      long maxSpoolBytes,
      long compactSpoolBytes,
      String reporterId) {

    public Settings {
      positive("queueCapacity", queueCapacity);
      if (maxBatch < 1 || maxBatch > 10_000) {
        throw new IllegalArgumentException("maxBatch: " + maxBatch + " (expected: 1..10000)");
      }
      positive("deadline", deadline.toMillis());
      positive("minBackoff", minBackoff.toMillis());
      if (maxBackoff.compareTo(minBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff: " + maxBackoff + " (expected: >= minBackoff, " + minBackoff + ")");
      }
      positive("maxSpoolBytes", maxSpoolBytes);
      positive("compactSpoolBytes", compactSpoolBytes);
      requireNonNull(reporterId, "reporterId");
    }

    /**
     * 10000 queued records, batches of 500, 10 s deadline, backoff 0.5 s to 30 s, a 512 MiB spool
     * compacted every 4 MiB, and {@code ext-proc-<HOSTNAME>-<pid>} as the id.
     */
    public static Settings defaults() {
      String host = System.getenv().getOrDefault("HOSTNAME", "");
      String id = "ext-proc-" + (host.isEmpty() ? "" : host + "-")
          + ProcessHandle.current().pid();
      return new Settings(
          10_000,
          500,
          Duration.ofSeconds(10),
          Duration.ofMillis(500),
          Duration.ofSeconds(30),
          512L * 1024 * 1024,
          4L * 1024 * 1024,
          id);
    }

    private static void positive(String name, long value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
      }
    }
  }

  /** A call to the control plane that ended: its ack, or why not. */
  private record Completed(
      SpendSpool.Chunk chunk,
      @Nullable SpendAck ack,
      @Nullable Throwable error) {}

  private final SpendServiceGrpc.SpendServiceStub stub;
  private final SpendSpool spool;
  private final Settings settings;
  private final Clock clock;
  private final SpendMetrics metrics;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final Semaphore capacity;
  private final AtomicLong droppedTotal = new AtomicLong();
  private final AtomicLong lastDropLog;
  private final Thread thread;
  private volatile boolean closed;

  // Confined to the background thread.
  private boolean shipping;
  private long retryAtNanos;
  private Duration backoff;
  private long singlesUntil;
  private int failures;
  private long lastFailureLog;

  /**
   * Opens (creating if needed) the spool in {@code spoolDir} and starts the background thread,
   * which first sends what the spool holds. The caller owns {@code channel}.
   *
   * @throws UncheckedIOException if the spool cannot be opened (another ext-proc uses the directory,
   *     or it is not writable)
   */
  public SpendReporter(Channel channel, Path spoolDir, MeterRegistry registry, Clock clock) {
    this(channel, spoolDir, registry, clock, Settings.defaults());
  }

  public SpendReporter(
      Channel channel, Path spoolDir, MeterRegistry registry, Clock clock, Settings settings) {
    this(channel, spoolDir, registry, clock, settings, r -> new Thread(r, "spend-reporter"));
  }

  SpendReporter(
      Channel channel,
      Path spoolDir,
      MeterRegistry registry,
      Clock clock,
      Settings settings,
      ThreadFactory threads) {
    requireNonNull(channel, "channel");
    requireNonNull(spoolDir, "spoolDir");
    requireNonNull(registry, "registry");
    this.clock = requireNonNull(clock, "clock");
    this.settings = requireNonNull(settings, "settings");
    this.stub = SpendServiceGrpc.newStub(channel);
    this.metrics = new SpendMetrics(registry);
    this.capacity = new Semaphore(settings.queueCapacity());
    this.lastDropLog = new AtomicLong(clock.millis() - LOG_INTERVAL_MILLIS);
    this.backoff = settings.minBackoff();
    try {
      this.spool =
          SpendSpool.open(spoolDir, settings.maxSpoolBytes(), settings.compactSpoolBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot open the spend spool in " + spoolDir + ": " + e.getMessage(), e);
    }
    metrics.spooled.set(spool.pending());
    this.retryAtNanos = System.nanoTime();
    this.thread = threads.newThread(this::run);
    thread.setDaemon(true);
    thread.start();
  }

  // The disabled reporter: every method returns early on stub == null (or metrics == null) before
  // it reads a field nulled here, which NullAway cannot follow; a @Nullable on each field would
  // instead put a null check on every use in the enabled reporter.
  @SuppressWarnings("NullAway")
  private SpendReporter() {
    this.stub = null;
    this.spool = null;
    this.settings = null;
    this.clock = null;
    this.metrics = null;
    this.capacity = null;
    this.lastDropLog = null;
    this.thread = null;
  }

  /**
   * A reporter that discards every record: for an ext-proc without a control plane, whose spend is
   * then only in its metrics and Envoy's access log.
   */
  public static SpendReporter disabled() {
    return new SpendReporter();
  }

  /**
   * Hands {@code r} to the background thread. Never blocks and never throws: when the queue is
   * full, or the record has no id, or the reporter is closed, the record is dropped and counted
   * ({@value SpendMetrics#DROPPED}), with a warning at most once a minute.
   */
  public void record(SpendRecord r) {
    if (stub == null) {
      return;
    }
    try {
      if (r == null || r.getId().isEmpty()) {
        drop(DropReason.INVALID, 1);
      } else if (closed) {
        drop(DropReason.CLOSED, 1);
      } else if (!capacity.tryAcquire()) {
        drop(DropReason.QUEUE_FULL, 1);
      } else {
        inbox.offer(r);
        metrics.queued.increment();
      }
    } catch (RuntimeException e) {
      log.debug("recording spend failed", e); // Never the caller's problem.
    }
  }

  /** Records in the spool the control plane has not acknowledged (what the gauge shows). */
  public long spooled() {
    return metrics == null ? 0 : metrics.spooled.get();
  }

  /** Records dropped so far, for every reason. */
  public long dropped() {
    return droppedTotal.get();
  }

  /**
   * Stops taking records, writes every queued one to the spool, waits for a call in flight (up to
   * its deadline), and stops the thread. What the control plane has not acknowledged stays in the
   * spool for the next start. Call it once the request path has stopped: a {@link #record} racing
   * with it may be counted as queued and still miss the spool.
   */
  @Override
  public void close() {
    if (stub == null || closed) {
      return;
    }
    closed = true;
    inbox.offer(CLOSE);
    try {
      thread.join(settings.deadline().plusSeconds(10).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      log.warn("the spend reporter did not stop in time; unacknowledged records stay in the spool");
      thread.interrupt();
    }
  }

  private void run() {
    boolean closing = false;
    try {
      while (!closing || shipping || !inbox.isEmpty()) {
        Object first = inbox.poll(waitNanos(closing), TimeUnit.NANOSECONDS);
        List<SpendRecord> records = new ArrayList<>();
        List<Completed> completed = new ArrayList<>(1);
        for (Object event = first;
            event != null;
            event = records.size() < SPOOL_WRITE_RECORDS ? inbox.poll() : null) {
          if (event instanceof SpendRecord r) {
            records.add(r);
            capacity.release();
          } else if (event instanceof Completed c) {
            completed.add(c);
          } else if (event == CLOSE) {
            closing = true;
          }
        }
        spool(records);
        completed.forEach(this::onCompleted);
        if (!closing) {
          ship();
        }
      }
    } catch (InterruptedException e) {
      log.warn("the spend reporter was interrupted; unacknowledged records stay in the spool");
    } catch (RuntimeException | Error e) {
      log.error(
          "the spend reporter stopped on an unexpected error; records are no longer spooled or shipped",
          e);
    } finally {
      spool.close();
    }
  }

  /** Until the next retry is due; indefinitely when only a new record or a call's end can change anything. */
  private long waitNanos(boolean closing) {
    if (closing) {
      return shipping ? settings.deadline().toNanos() : 0;
    }
    if (shipping || spool.pending() == 0) {
      return TimeUnit.MINUTES.toNanos(1);
    }
    return Math.max(0, retryAtNanos - System.nanoTime());
  }

  private void spool(List<SpendRecord> records) {
    if (records.isEmpty()) {
      return;
    }
    int appended;
    try {
      appended = spool.append(records);
    } catch (IOException e) {
      log.error("cannot write {} spend records to the spool: {}", records.size(), e.toString());
      drop(DropReason.SPOOL_ERROR, records.size());
      return;
    }
    if (appended < records.size()) {
      drop(DropReason.SPOOL_FULL, records.size() - appended);
    }
    metrics.spooled.set(spool.pending());
  }

  /** Sends the oldest unacknowledged records, unless a call is in flight or a retry is not due. */
  private void ship() {
    if (shipping || spool.pending() == 0 || System.nanoTime() - retryAtNanos < 0) {
      return;
    }
    SpendSpool.Chunk chunk;
    try {
      // After a refused batch its records go one by one, to find the invalid ones.
      chunk = spool.read(spool.acked() < singlesUntil ? 1 : settings.maxBatch());
    } catch (IOException e) {
      log.error("cannot read the spend spool: {}; retrying", e.toString());
      failed(Status.Code.DATA_LOSS);
      return;
    }
    SpendBatch batch = SpendBatch.newBuilder()
        .addAllRecords(chunk.records())
        .setReporterId(settings.reporterId())
        .build();
    shipping = true;
    stub.withDeadlineAfter(settings.deadline().toNanos(), TimeUnit.NANOSECONDS)
        .record(batch, new StreamObserver<>() {
          private @Nullable SpendAck ack;

          @Override
          public void onNext(SpendAck value) {
            ack = value;
          }

          @Override
          public void onError(Throwable t) {
            inbox.offer(new Completed(chunk, null, t));
          }

          @Override
          public void onCompleted() {
            inbox.offer(new Completed(
                chunk,
                ack,
                ack == null ? Status.INTERNAL.withDescription("no ack").asException() : null));
          }
        });
  }

  private void onCompleted(Completed c) {
    shipping = false;
    int n = c.chunk().records().size();
    if (c.error() == null) {
      spool.ack(c.chunk().end(), n);
      metrics.shipped.increment(n);
      metrics.duplicates.increment(
          requireNonNull(c.ack(), "ack (expected: with no error)").getDuplicates());
      metrics.spooled.set(spool.pending());
      if (failures > 0) {
        log.info(
            "the control plane takes spend again after {} failed calls; {} records still spooled",
            failures,
            spool.pending());
      }
      failures = 0;
      backoff = settings.minBackoff();
      retryAtNanos = System.nanoTime();
      return;
    }
    Status status = Status.fromThrowable(c.error());
    if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
      if (n > 1) {
        singlesUntil = c.chunk().end();
        log.warn(
            "the control plane refused a batch of {} spend records ({}); sending them one by one to find the"
                + " invalid ones",
            n,
            status.getDescription());
        return;
      }
      log.warn(
          "the control plane refused spend record {} ({}); dropping it",
          c.chunk().records().get(0).getId(),
          status.getDescription());
      spool.ack(c.chunk().end(), 1);
      metrics.rejected.increment();
      metrics.spooled.set(spool.pending());
      return;
    }
    failed(status.getCode());
    long now = clock.millis();
    if (failures == 1 || now - lastFailureLog >= LOG_INTERVAL_MILLIS) {
      lastFailureLog = now;
      log.warn(
          "cannot ship spend to the control plane ({}: {}); {} records spooled, retrying with backoff ({} failed"
              + " calls so far)",
          status.getCode(),
          status.getDescription(),
          spool.pending(),
          failures);
    }
  }

  private void failed(Status.Code code) {
    metrics.shipFailure(code);
    failures++;
    long millis = backoff.toMillis();
    long wait = millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
    Duration doubled = backoff.multipliedBy(2);
    backoff = doubled.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : doubled;
  }

  private void drop(DropReason reason, int records) {
    metrics.dropped(reason, records);
    long total = droppedTotal.addAndGet(records);
    long now = clock.millis();
    long last = lastDropLog.get();
    if (now - last >= LOG_INTERVAL_MILLIS && lastDropLog.compareAndSet(last, now)) {
      log.warn(
          "dropped spend records ({}); {} dropped since start. See {}.",
          reason.tag(),
          total,
          SpendMetrics.DROPPED);
    }
  }
}
