package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.model.GatewaySpec;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only caller of {@code setSnapshot}. Every snapshot is built whole from the spec, checked
 * against Envoy's rules and cross-references, and only then published under the next version, so
 * Envoy never receives configuration it would reject.
 */
public final class SnapshotPublisher {

  /** Checks a candidate snapshot; throws {@link InvalidSnapshotException} to stop it being published. */
  @FunctionalInterface
  public interface SnapshotCheck {
    void check(Snapshot snapshot);
  }

  /** Thrown when a snapshot fails a check; the message lists every violation. */
  public static final class InvalidSnapshotException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidSnapshotException(String message) {
      super(message);
    }
  }

  /** Node group every Envoy belongs to until fleets get groups of their own. */
  public static final String DEFAULT_GROUP = "default";

  private static final Logger log = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final SimpleCache<String> cache;
  private final SnapshotCheck check;
  private final AtomicReference<Published> last = new AtomicReference<>();
  private long version;

  /** Number part of a version string published by this class. */
  public static long number(String version) {
    int dash = version.indexOf('-');
    return Long.parseLong(dash < 0 ? version : version.substring(0, dash));
  }

  /** @param startVersion versions published will be above this */
  public SnapshotPublisher(SimpleCache<String> cache, SnapshotCheck check, long startVersion) {
    this.cache = requireNonNull(cache, "cache");
    this.check = requireNonNull(check, "check");
    if (startVersion < 0) {
      throw new IllegalArgumentException("startVersion: " + startVersion + " (expected: >= 0)");
    }
    this.version = startVersion;
  }

  /**
   * Builds, checks and publishes a snapshot of {@code spec} under the next version.
   *
   * @return the published version
   * @throws InvalidSnapshotException if the snapshot fails a check; nothing is published then
   */
  public synchronized String publish(GatewaySpec spec) {
    return publishAt(spec, version + 1);
  }

  /**
   * Publishes {@code spec} as version {@code number}, which must be above every version published
   * so far by this publisher. The version string is {@code <number>-<fingerprint of the spec>}: the
   * number keeps increasing across restarts when it comes from the store, and the fingerprint makes
   * a restart with changed startup settings visible to Envoys that reconnect with the old version.
   */
  public synchronized String publishAt(GatewaySpec spec, long number) {
    if (number <= version) {
      throw new IllegalArgumentException("version: " + number + " (expected: > " + version + ")");
    }
    String next = number + "-" + Integer.toHexString(spec.hashCode());
    Snapshot snapshot = SnapshotFactory.snapshot(spec, next);
    check.check(snapshot);
    cache.setSnapshot(DEFAULT_GROUP, snapshot);
    version = number;
    last.set(new Published(next, spec, snapshot));
    log.info("published snapshot version {} ({} clusters, {} listeners, {} route configs, {} endpoints)",
        next,
        snapshot.clusters().resources().size(),
        snapshot.listeners().resources().size(),
        snapshot.routes().resources().size(),
        snapshot.endpoints().resources().size());
    return next;
  }

  /** The last published version and the spec it came from, if any was published. */
  public Optional<Published> lastPublished() {
    return Optional.ofNullable(last.get());
  }

  /** Runs the publish-time checks on a candidate without publishing it. */
  public void check(Snapshot candidate) {
    check.check(candidate);
  }

  /** The last published snapshot, or null before the first. */
  public Snapshot lastSnapshot() {
    Published p = last.get();
    return p == null ? null : p.snapshot();
  }

  /** A version that reached the cache, with its source. */
  public record Published(String version, GatewaySpec spec, Snapshot snapshot) {}
}
