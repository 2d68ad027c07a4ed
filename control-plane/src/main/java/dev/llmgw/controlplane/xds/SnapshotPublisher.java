package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.model.GatewaySpec;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
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

  /** Node group of every Envoy whose {@code node.cluster} names no fleet (see {@link NodeGroups}). */
  public static final String DEFAULT_GROUP = "default";

  private static final Logger log = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final SimpleCache<String> cache;
  private final NodeGroups groups;
  private final SnapshotCheck check;
  private final AtomicReference<Published> last = new AtomicReference<>();
  private long version;

  /** Number part of a version string published by this class. */
  public static long number(String version) {
    int dash = version.indexOf('-');
    return Long.parseLong(dash < 0 ? version : version.substring(0, dash));
  }

  /** A publisher for a cache whose node groups are not fleets (every Envoy in the default group). */
  public SnapshotPublisher(SimpleCache<String> cache, SnapshotCheck check, long startVersion) {
    this(cache, new NodeGroups(), check, startVersion);
  }

  /**
   * @param groups the node grouping {@code cache} was built with; the publisher tells it which fleets
   *     have snapshots of their own
   * @param startVersion versions published will be above this
   */
  public SnapshotPublisher(
      SimpleCache<String> cache, NodeGroups groups, SnapshotCheck check, long startVersion) {
    this.cache = requireNonNull(cache, "cache");
    this.groups = requireNonNull(groups, "groups");
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
    Map<String, Snapshot> byGroup = snapshots(spec, Long.toString(number));
    Snapshot snapshot =
        requireNonNull(byGroup.get(DEFAULT_GROUP), "snapshots() always builds the default group");
    String next = snapshot.version(Resources.V3.CLUSTER_TYPE_URL);
    // Fleets first, then the grouping, then the default group: an Envoy of a new fleet still parked
    // on the default group is answered last, and its next request finds its fleet's snapshot.
    byGroup.forEach((group, s) -> {
      if (!group.equals(DEFAULT_GROUP)) {
        cache.setSnapshot(group, s);
      }
    });
    Set<String> before = groups.fleets();
    groups.fleets(spec.fleetNames());
    cache.setSnapshot(DEFAULT_GROUP, snapshot);
    for (String gone : before) {
      if (!byGroup.containsKey(gone)) {
        // Envoys still watching a fleet nobody names any more get the default configuration.
        cache.setSnapshot(gone, snapshot);
      }
    }
    version = number;
    last.set(new Published(next, spec, snapshot, Map.copyOf(byGroup)));
    log.info(
        "published snapshot version {} ({} clusters, {} listeners, {} route configs, {} endpoints)",
        next,
        snapshot.clusters().resources().size(),
        snapshot.listeners().resources().size(),
        snapshot.routes().resources().size(),
        snapshot.endpoints().resources().size());
    return next;
  }

  /**
   * Builds and checks the snapshot of every group: the default one and one per fleet the spec names.
   *
   * @throws InvalidSnapshotException if any of them fails a check
   * @throws IllegalArgumentException if a fleet's routes target providers it does not have
   */
  public Map<String, Snapshot> snapshots(GatewaySpec spec, String number) {
    Map<String, Snapshot> byGroup = new LinkedHashMap<>();
    byGroup.put(DEFAULT_GROUP, groupSnapshot(spec.forFleet(null), number));
    for (String fleet : spec.fleetNames()) {
      byGroup.put(fleet, groupSnapshot(spec.forFleet(fleet), number));
    }
    byGroup.forEach((group, snapshot) -> {
      try {
        check.check(snapshot);
      } catch (InvalidSnapshotException e) {
        throw new InvalidSnapshotException(
            (group.equals(DEFAULT_GROUP) ? "" : "fleet '" + group + "': ") + e.getMessage());
      }
    });
    return byGroup;
  }

  /**
   * Version {@code <number>-<fingerprint of what the group is served>}: groups differ in the
   * fingerprint, so an Envoy moving from the default group to its fleet's sees a new version.
   */
  private static Snapshot groupSnapshot(GatewaySpec groupSpec, String number) {
    return SnapshotFactory.snapshot(
        groupSpec, number + "-" + Integer.toHexString(groupSpec.hashCode()));
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
  public @Nullable Snapshot lastSnapshot() {
    Published p = last.get();
    return p == null ? null : p.snapshot();
  }

  /**
   * A version that reached the cache, with its source.
   *
   * @param snapshot the default group's snapshot
   * @param byGroup every group's snapshot, the default one included
   */
  public record Published(
      String version, GatewaySpec spec, Snapshot snapshot, Map<String, Snapshot> byGroup) {}
}
