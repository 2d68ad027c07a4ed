package dev.llmgw.controlplane;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.ModelAlias;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import dev.llmgw.controlplane.policy.PolicyDocuments;
import dev.llmgw.controlplane.policy.PolicyFactory;
import dev.llmgw.controlplane.policy.PolicyFeed;
import dev.llmgw.controlplane.store.Change;
import dev.llmgw.controlplane.store.ConfigStore;
import dev.llmgw.controlplane.store.ConflictException;
import dev.llmgw.controlplane.store.StoreState;
import dev.llmgw.controlplane.store.StoredDocument;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import dev.llmgw.proto.policy.v1.Policy;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * Turns stored documents into the gateway spec and keeps Envoy in step with the store: every
 * change is checked as a whole candidate snapshot (Envoy's rules, cross-references) before it is
 * committed, and published right after. One writer at a time, so check and commit see the same state.
 */
public final class ConfigService {

  /** What a change is refused for; maps to an HTTP status in the REST layer. */
  public enum Refusal {
    INVALID,
    CONFLICT,
    PRECONDITION_FAILED,
    NOT_FOUND
  }

  /** A refused change, with a message that says what was expected. */
  public static final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;
    public final Refusal refusal;
    /** The request field the refusal is about, or null when it is about no single field. */
    public final @Nullable String field;

    RefusedException(Refusal refusal, @Nullable String field, @Nullable String message) {
      super(message);
      this.refusal = refusal;
      this.field = field;
    }
  }

  private final ConfigStore store;
  private final SnapshotPublisher publisher;
  /** Startup settings that are not stored: listener port, ext-proc endpoints, default provider, CA bundle. */
  private final GatewaySpec base;

  private final BiFunction<String, JsonNode, Provider> providerParser;
  private final BiFunction<String, JsonNode, Route> routeParser;
  private final BiFunction<String, JsonNode, ModelAlias> modelParser;
  private final PolicyFeed feed;

  public ConfigService(
      ConfigStore store,
      SnapshotPublisher publisher,
      GatewaySpec base,
      BiFunction<String, JsonNode, Provider> providerParser,
      BiFunction<String, JsonNode, Route> routeParser,
      BiFunction<String, JsonNode, ModelAlias> modelParser,
      PolicyFeed feed) {
    this.store = requireNonNull(store, "store");
    this.publisher = requireNonNull(publisher, "publisher");
    this.base = requireNonNull(base, "base");
    this.providerParser = providerParser;
    this.routeParser = routeParser;
    this.modelParser = modelParser;
    this.feed = requireNonNull(feed, "feed");
  }

  public StoreState state() {
    return store.state();
  }

  /** The spec a store state describes, on top of the startup settings. */
  public GatewaySpec spec(StoreState state) {
    List<Provider> providers = new ArrayList<>();
    Map<String, Set<String>> fleets = new HashMap<>();
    Set<String> failOpen = new TreeSet<>();
    for (StoredDocument d : state.list(KIND_PROVIDERS)) {
      providers.add(providerParser.apply(d.name(), d.body()));
      fleets(d, fleets);
      failOpen(d, failOpen);
    }
    List<Route> routes = new ArrayList<>();
    for (StoredDocument d : state.list(KIND_ROUTES)) {
      routes.add(routeParser.apply(d.name(), d.body()));
      fleets(d, fleets);
      failOpen(d, failOpen);
    }
    Set<String> identityHeaders = new TreeSet<>();
    state
        .get(PolicyDocuments.SETTINGS, PolicyDocuments.IDENTITY_HEADERS)
        .ifPresent(d -> d.body().forEach(h -> identityHeaders.add(h.asText())));
    return new GatewaySpec(
        base.listenerPort(),
        base.extProc(),
        base.extProcMessageTimeout(),
        providers,
        base.defaultProvider(),
        base.trustedCaFile(),
        routes,
        fleets,
        identityHeaders,
        failOpen,
        base.extProcTls());
  }

  /** Adds a provider or route whose {@code failure_mode} is {@code fail_open} (validated when it was written). */
  private static void failOpen(StoredDocument d, Set<String> into) {
    if (d.body().path("failure_mode").asText().equals("fail_open")) {
      into.add(d.name());
    }
  }

  /** The {@code fleets} a provider or route document is restricted to (validated when it was written). */
  private static void fleets(StoredDocument d, Map<String, Set<String>> into) {
    JsonNode list = d.body().path("fleets");
    if (list.isArray() && !list.isEmpty()) {
      Set<String> names = new TreeSet<>();
      list.forEach(f -> names.add(f.asText()));
      into.put(d.name(), names);
    }
  }

  public static final String KIND_PROVIDERS = "providers";
  public static final String KIND_ROUTES = "routes";
  public static final String KIND_MODELS = "models";

  /** The policy ext-proc gets for a store state; throws IllegalArgumentException for a dangling alias. */
  public Policy policy(StoreState state, GatewaySpec spec) {
    List<ModelAlias> aliases = new ArrayList<>();
    for (StoredDocument d : state.list(KIND_MODELS)) {
      aliases.add(modelParser.apply(d.name(), d.body()));
    }
    Policy.Builder policy =
        PolicyFactory.policy(Long.toString(state.version()), spec, aliases).toBuilder();
    PolicyDocuments.apply(state, policy);
    return policy.build();
  }

  /** Publishes the store's current state; called at startup. */
  public synchronized String publishCurrent() {
    StoreState state = store.state();
    GatewaySpec spec = spec(state);
    String version = publisher.publishAt(spec, Math.max(1, state.version()));
    feed.publish(policy(state, spec));
    return version;
  }

  /**
   * Checks {@code change} against the whole configuration, then commits and publishes it.
   *
   * @param dryRun check and translate only; nothing is stored or pushed
   * @return the snapshot the change produces (published unless {@code dryRun}) and the new state
   */
  public synchronized Result apply(Change change, boolean dryRun) throws RefusedException {
    StoreState current = store.state();
    if (change.op() == Change.Op.DELETE
        && current.get(change.kind(), change.name()).isEmpty()) {
      throw new RefusedException(
          Refusal.NOT_FOUND, "name", change.kind() + " '" + change.name() + "' does not exist");
    }
    StoreState candidate;
    try {
      candidate = current.after(List.of(change));
    } catch (ConflictException e) {
      throw conflict(change, e);
    }
    GatewaySpec spec;
    try {
      spec = spec(candidate);
      policy(candidate, spec);
    } catch (IllegalArgumentException e) {
      Refusal refusal = change.op() == Change.Op.DELETE ? Refusal.CONFLICT : Refusal.INVALID;
      throw new RefusedException(refusal, null, e.getMessage());
    }
    Snapshot snapshot;
    try {
      snapshot = requireNonNull(
          publisher.snapshots(spec, "dry-run").get(SnapshotPublisher.DEFAULT_GROUP),
          "snapshots() always builds the default group");
    } catch (SnapshotPublisher.InvalidSnapshotException | IllegalArgumentException e) {
      throw new RefusedException(Refusal.INVALID, "fleets", e.getMessage());
    }
    if (dryRun) {
      return new Result(current, snapshot, null);
    }
    StoreState committed;
    try {
      committed = store.apply(change);
    } catch (ConflictException e) {
      throw conflict(change, e);
    }
    GatewaySpec committedSpec = spec(committed);
    String version = publisher.publishAt(committedSpec, committed.version());
    feed.publish(policy(committed, committedSpec));
    return new Result(
        committed, requireNonNull(publisher.lastSnapshot(), "published just above"), version);
  }

  /**
   * Outcome of a change.
   *
   * @param publishedVersion the snapshot version the change was published under, or null for a dry run
   */
  public record Result(
      StoreState state, Snapshot snapshot, @Nullable String publishedVersion) {}

  /** Create-only conflicts are 409s; a stale If-Match is a 412. */
  private static RefusedException conflict(Change change, ConflictException e) {
    boolean createOnly =
        change.expectedRevision().isPresent() && change.expectedRevision().getAsLong() == 0;
    return new RefusedException(
        createOnly ? Refusal.CONFLICT : Refusal.PRECONDITION_FAILED, null, e.getMessage());
  }
}
