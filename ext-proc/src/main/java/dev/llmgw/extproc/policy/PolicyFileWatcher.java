package dev.llmgw.extproc.policy;

import static java.util.Objects.requireNonNull;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the policy file into a {@link PolicyStore} and reloads it when its content changes. A
 * file that does not parse or validate is reported and the last good policy stays in force.
 * Polls rather than using WatchService, which misses changes on some volume types (Kubernetes
 * ConfigMap symlink swaps, network file systems).
 */
public final class PolicyFileWatcher implements AutoCloseable {

  /** Outcome of one load, for logs, metrics and tests. */
  public record LoadResult(boolean applied, String message) {}

  private static final Logger log = LoggerFactory.getLogger(PolicyFileWatcher.class);

  private final Path file;
  private final PolicyStore store;
  private final ExtProcMetrics metrics;
  private @Nullable String lastText;
  private @Nullable ScheduledFuture<?> task;

  public PolicyFileWatcher(Path file, PolicyStore store, ExtProcMetrics metrics) {
    this.file = requireNonNull(file, "file");
    this.store = requireNonNull(store, "store");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  /** Reads the file now; applies it if it changed and is valid. */
  public synchronized LoadResult reload() {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      String msg = "policy file " + file + " unreadable (" + e.getMessage()
          + "); keeping policy version " + store.current().version();
      log.warn(msg);
      metrics.policyLoad(false);
      return new LoadResult(false, msg);
    }
    if (text.equals(lastText)) {
      return new LoadResult(false, "unchanged");
    }
    lastText = text;
    try {
      GatewayPolicy policy = PolicyLoader.parse(text, file.toString());
      store.replace(policy);
      metrics.policyLoad(true);
      log.info(
          "policy version {} loaded from {} ({} models)",
          policy.version(),
          file,
          policy.models().size());
      return new LoadResult(true, "applied version " + policy.version());
    } catch (PolicyLoader.InvalidPolicyException e) {
      String msg = "rejected policy: " + e.getMessage() + "; keeping policy version "
          + store.current().version();
      log.error(msg);
      metrics.policyLoad(false);
      return new LoadResult(false, msg);
    }
  }

  /** Checks the file every {@code interval} on {@code scheduler}. */
  public synchronized void start(ScheduledExecutorService scheduler, Duration interval) {
    task = scheduler.scheduleWithFixedDelay(
        this::reload, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
