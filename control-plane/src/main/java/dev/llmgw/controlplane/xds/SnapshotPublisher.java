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

  /** @param startVersion the version of the last snapshot published before a restart, or 0 */
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
    String next = Long.toString(version + 1);
    Snapshot snapshot = SnapshotFactory.snapshot(spec, next);
    check.check(snapshot);
    cache.setSnapshot(DEFAULT_GROUP, snapshot);
    version++;
    last.set(new Published(next, spec));
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

  /** A version that reached the cache, with its source. */
  public record Published(String version, GatewaySpec spec) {}
}
