package dev.llmgw.controlplane.xds.validation;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Proves a set of Envoy resources is whole: everything one resource names by name exists. Envoy
 * accepts a route to a cluster it does not have and answers 503 at request time, waits forever for
 * an RDS name nobody serves, and leaves an EDS cluster without endpoints empty — so these mistakes
 * surface only in traffic unless they are checked before a snapshot is published.
 *
 * <p>Checked, wherever they sit (Any fields are unpacked):
 *
 * <ul>
 *   <li>every cluster named by a route ({@code route.cluster}, {@code weighted_clusters}, {@code
 *       request_mirror_policies}), a TCP proxy, an aggregate cluster ({@code
 *       ClusterConfig.clusters}), a gRPC service ({@code envoy_grpc.cluster_name}: the ext_proc
 *       filter, gRPC access logs, ...) or an {@code HttpUri} exists;
 *   <li>every RDS {@code route_config_name} an HTTP connection manager fetches over ADS is served;
 *   <li>every EDS cluster fetching over ADS has a {@code ClusterLoadAssignment} (named by {@code
 *       eds_cluster_config.service_name}, else the cluster's name) with at least one endpoint, and
 *       every STATIC / STRICT_DNS cluster has endpoints in its {@code load_assignment}
 *       (LOGICAL_DNS: exactly one);
 *   <li>every SDS secret a TLS context names exists: over ADS among the served secrets, without
 *       {@code sds_config} among the bootstrap's static secrets;
 *   <li>names are non-empty and unique within each kind.
 * </ul>
 *
 * <p>Not checkable, so not reported: clusters chosen at request time ({@code cluster_header},
 * cluster specifier plugins), and names fetched from sources other than ADS (files, a separate xDS
 * server).
 *
 * <pre>{@code
 * CrossReferenceChecker checker = CrossReferenceChecker.alongside(bootstrap);
 * checker.requireWhole(snapshot); // throws IncompleteConfigException listing every problem
 * }</pre>
 */
public final class CrossReferenceChecker {

  private static final int MAX_NAMES_LISTED = 10;

  private final Set<String> knownClusters;
  private final Set<String> knownSecrets;

  private CrossReferenceChecker(Set<String> knownClusters, Set<String> knownSecrets) {
    this.knownClusters = Set.copyOf(knownClusters);
    this.knownSecrets = Set.copyOf(knownSecrets);
  }

  /** A checker for resources that may name only each other. */
  public static CrossReferenceChecker standalone() {
    return new CrossReferenceChecker(Set.of(), Set.of());
  }

  /**
   * A checker for resources served to Envoys started with {@code bootstrap}: its static clusters
   * (such as the xDS cluster) and static secrets may be named too.
   */
  public static CrossReferenceChecker alongside(Bootstrap bootstrap) {
    requireNonNull(bootstrap, "bootstrap");
    return standalone()
        .withKnownClusters(
            names(bootstrap.getStaticResources().getClustersList(), Cluster::getName))
        .withKnownSecrets(names(bootstrap.getStaticResources().getSecretsList(), Secret::getName));
  }

  /** This checker, also accepting references to {@code clusters} defined elsewhere. */
  public CrossReferenceChecker withKnownClusters(Collection<String> clusters) {
    Set<String> all = new LinkedHashSet<>(knownClusters);
    all.addAll(requireNonNull(clusters, "clusters"));
    return new CrossReferenceChecker(all, knownSecrets);
  }

  /** This checker, also accepting references to static {@code secrets} defined elsewhere. */
  public CrossReferenceChecker withKnownSecrets(Collection<String> secrets) {
    Set<String> all = new LinkedHashSet<>(knownSecrets);
    all.addAll(requireNonNull(secrets, "secrets"));
    return new CrossReferenceChecker(knownClusters, all);
  }

  /** Every problem in the resources of {@code snapshot}; empty if it is whole. */
  public List<String> check(Snapshot snapshot) {
    requireNonNull(snapshot, "snapshot");
    return check(
        snapshot.clusters().resources().values(),
        snapshot.endpoints().resources().values(),
        snapshot.listeners().resources().values(),
        snapshot.routes().resources().values(),
        snapshot.secrets().resources().values());
  }

  /** Every problem in one snapshot's worth of resources; empty if they are whole. */
  public List<String> check(
      Collection<Cluster> clusters,
      Collection<ClusterLoadAssignment> endpoints,
      Collection<Listener> listeners,
      Collection<RouteConfiguration> routes,
      Collection<Secret> secrets) {
    requireNonNull(clusters, "clusters");
    requireNonNull(endpoints, "endpoints");
    requireNonNull(listeners, "listeners");
    requireNonNull(routes, "routes");
    requireNonNull(secrets, "secrets");
    Problems problems = new Problems();
    unique(problems, "cluster", clusters, Cluster::getName);
    unique(problems, "cluster load assignment", endpoints, ClusterLoadAssignment::getClusterName);
    unique(problems, "listener", listeners, Listener::getName);
    unique(problems, "route configuration", routes, RouteConfiguration::getName);
    unique(problems, "secret", secrets, Secret::getName);

    Set<String> clusterNames = union(names(clusters, Cluster::getName), knownClusters);
    Scope scope = new Scope(
        clusterNames,
        "served clusters" + (knownClusters.isEmpty() ? "" : " and known static clusters"),
        Set.copyOf(names(routes, RouteConfiguration::getName)),
        byName(endpoints),
        Set.copyOf(names(secrets, Secret::getName)),
        knownSecrets);
    List<Message> resources = new ArrayList<>();
    resources.addAll(listeners);
    resources.addAll(routes);
    resources.addAll(clusters);
    for (Message resource : resources) {
      References.of(resource).forEach(ref -> ref.check(scope, problems));
    }
    clusters.forEach(cluster -> checkEndpoints(cluster, scope, problems));
    return problems.list();
  }

  /**
   * Every problem in the static resources of {@code bootstrap}. References to what the bootstrap
   * fetches dynamically (clusters, when it has a CDS source; RDS names; EDS endpoints; SDS secrets
   * fetched over ADS) cannot be resolved from the bootstrap alone and are not reported. The
   * clusters its {@code dynamic_resources} use must be static.
   */
  public List<String> checkStatic(Bootstrap bootstrap) {
    requireNonNull(bootstrap, "bootstrap");
    Bootstrap.StaticResources statics = bootstrap.getStaticResources();
    Problems problems = new Problems();
    unique(problems, "static cluster", statics.getClustersList(), Cluster::getName);
    unique(problems, "static listener", statics.getListenersList(), Listener::getName);
    unique(problems, "static secret", statics.getSecretsList(), Secret::getName);

    Set<String> staticClusters =
        union(names(statics.getClustersList(), Cluster::getName), knownClusters);
    Set<String> staticSecrets =
        union(names(statics.getSecretsList(), Secret::getName), knownSecrets);
    boolean dynamicClusters = bootstrap.getDynamicResources().hasCdsConfig()
        || !bootstrap.getDynamicResources().getCdsResourcesLocator().isEmpty();
    Scope scope = new Scope(
        dynamicClusters ? null : staticClusters,
        "static clusters",
        null,
        null,
        null,
        staticSecrets);
    Scope staticOnly =
        new Scope(staticClusters, "static clusters", null, null, null, staticSecrets);

    // Static listeners are built at startup, before any CDS cluster exists, and Envoy validates
    // the clusters of an inline route_config then (validate_clusters defaults to true for static
    // routes), so what they name must be a static cluster even when CDS is configured.
    for (Listener listener : statics.getListenersList()) {
      References.of(listener).forEach(ref -> ref.check(staticOnly, problems));
    }
    for (Message cluster : statics.getClustersList()) {
      References.of(cluster).forEach(ref -> ref.check(scope, problems));
    }
    Bootstrap rest = bootstrap.toBuilder().clearStaticResources().build();
    for (Reference ref : References.of(rest)) {
      // Envoy needs the clusters of its xDS sources before it can fetch any dynamic cluster.
      ref.check(ref.path().startsWith("dynamic_resources") ? staticOnly : scope, problems);
    }
    statics.getClustersList().forEach(cluster -> checkEndpoints(cluster, scope, problems));
    return problems.list();
  }

  /**
   * Passes if {@link #check(Snapshot)} finds nothing.
   *
   * @throws IncompleteConfigException listing every problem otherwise
   */
  public void requireWhole(Snapshot snapshot) {
    throwIfAny(check(snapshot));
  }

  /**
   * Passes if {@link #check(Collection, Collection, Collection, Collection, Collection)} finds
   * nothing.
   *
   * @throws IncompleteConfigException listing every problem otherwise
   */
  public void requireWhole(
      Collection<Cluster> clusters,
      Collection<ClusterLoadAssignment> endpoints,
      Collection<Listener> listeners,
      Collection<RouteConfiguration> routes,
      Collection<Secret> secrets) {
    throwIfAny(check(clusters, endpoints, listeners, routes, secrets));
  }

  /**
   * Passes if {@link #checkStatic(Bootstrap)} finds nothing.
   *
   * @throws IncompleteConfigException listing every problem otherwise
   */
  public void requireWholeStatic(Bootstrap bootstrap) {
    throwIfAny(checkStatic(bootstrap));
  }

  private static void throwIfAny(List<String> problems) {
    if (!problems.isEmpty()) {
      throw new IncompleteConfigException(problems);
    }
  }

  // ---- endpoints ----

  private static void checkEndpoints(Cluster cluster, Scope scope, Problems problems) {
    if (cluster.getClusterDiscoveryTypeCase() != Cluster.ClusterDiscoveryTypeCase.TYPE) {
      return; // a cluster_type extension (aggregate, dynamic forward proxy, ...) has no endpoints
    }
    String label = "cluster '" + cluster.getName() + "'";
    DiscoveryType type = cluster.getType();
    switch (type) {
      case EDS -> {
        ConfigSource source = cluster.getEdsClusterConfig().getEdsConfig();
        if (scope.endpoints() == null
            || !(source.hasAds() || source.equals(ConfigSource.getDefaultInstance()))) {
          return;
        }
        String serviceName = cluster.getEdsClusterConfig().getServiceName().isEmpty()
            ? cluster.getName()
            : cluster.getEdsClusterConfig().getServiceName();
        ClusterLoadAssignment assignment = scope.endpoints().get(serviceName);
        if (assignment == null) {
          problems.add(label
              + " is of type EDS, but no cluster load assignment named '"
              + serviceName
              + "' is served, so it has no endpoints");
        } else if (lbEndpoints(assignment) == 0) {
          problems.add(label
              + " is of type EDS, but its cluster load assignment '"
              + serviceName
              + "' has no lb_endpoints");
        }
      }
      case STATIC, STRICT_DNS -> {
        if (lbEndpoints(cluster.getLoadAssignment()) == 0) {
          problems.add(
              label + " is of type " + type + " but its load_assignment has no lb_endpoints");
        }
      }
      case LOGICAL_DNS -> {
        List<LocalityLbEndpoints> localities = cluster.getLoadAssignment().getEndpointsList();
        if (localities.size() != 1 || localities.get(0).getLbEndpointsCount() != 1) {
          problems.add(label
              + " is of type LOGICAL_DNS, whose load_assignment must hold exactly one"
              + " locality with exactly one lb_endpoint (Envoy refuses it otherwise); it has "
              + lbEndpoints(cluster.getLoadAssignment())
              + " in "
              + localities.size()
              + (localities.size() == 1 ? " locality" : " localities"));
        }
      }
      default -> {
        // ORIGINAL_DST clusters find their hosts at request time.
      }
    }
  }

  private static int lbEndpoints(ClusterLoadAssignment assignment) {
    return assignment.getEndpointsList().stream()
        .mapToInt(LocalityLbEndpoints::getLbEndpointsCount)
        .sum();
  }

  // ---- names ----

  private static <T> void unique(
      Problems problems, String kind, Collection<T> resources, Function<T, String> name) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (T resource : resources) {
      counts.merge(name.apply(resource), 1, Integer::sum);
    }
    counts.forEach((resourceName, count) -> {
      if (resourceName.isEmpty()) {
        problems.add(count
            + (count == 1 ? " " + kind + " has" : " " + kind + "s have")
            + " an empty name; every xDS resource needs a unique name");
      } else if (count > 1) {
        problems.add(count
            + " "
            + kind
            + "s are named '"
            + resourceName
            + "'; names must be unique within each kind");
      }
    });
  }

  private static <T> List<String> names(Collection<T> resources, Function<T, String> name) {
    return resources.stream().map(name).toList();
  }

  private static Set<String> union(Collection<String> a, Collection<String> b) {
    Set<String> out = new LinkedHashSet<>(a);
    out.addAll(b);
    return Set.copyOf(out);
  }

  private static Map<String, ClusterLoadAssignment> byName(Collection<ClusterLoadAssignment> all) {
    Map<String, ClusterLoadAssignment> out = new HashMap<>();
    all.forEach(a -> out.putIfAbsent(a.getClusterName(), a));
    return out;
  }

  private static String listed(Set<String> names) {
    Set<String> sorted = new TreeSet<>(names);
    String shown = sorted.stream().limit(MAX_NAMES_LISTED).collect(Collectors.joining(", "));
    return "[" + shown + (sorted.size() > MAX_NAMES_LISTED ? ", ..." : "") + "]";
  }

  // ---- references ----

  /**
   * What resolves references. A null set means that kind is fetched from somewhere this check
   * cannot see, so references to it are not judged.
   */
  private record Scope(
      @Nullable Set<String> clusters,
      String clustersDescription,
      @Nullable Set<String> routes,
      @Nullable Map<String, ClusterLoadAssignment> endpoints,
      @Nullable Set<String> adsSecrets,
      Set<String> staticSecrets) {}

  private enum Kind {
    CLUSTER,
    ROUTE_CONFIGURATION,
    ADS_SECRET,
    STATIC_SECRET
  }

  /** One name one resource uses, found at {@code path} inside it. */
  private record Reference(Kind kind, String resource, String path, String name) {

    void check(Scope scope, Problems problems) {
      String where = resource + ": " + path;
      switch (kind) {
        case CLUSTER -> {
          if (scope.clusters() != null && !scope.clusters().contains(name)) {
            problems.add(where
                + " names cluster '"
                + name
                + "', which does not exist ("
                + scope.clustersDescription()
                + ": "
                + listed(scope.clusters())
                + ")");
          }
        }
        case ROUTE_CONFIGURATION -> {
          if (scope.routes() != null && !scope.routes().contains(name)) {
            problems.add(where
                + " fetches route configuration '"
                + name
                + "' over RDS, but no route configuration of that name is served ("
                + "served: "
                + listed(scope.routes())
                + ")");
          }
        }
        case ADS_SECRET -> {
          if (scope.adsSecrets() != null && !scope.adsSecrets().contains(name)) {
            problems.add(where
                + " fetches secret '"
                + name
                + "' over SDS (ADS), but no secret of that name is served");
          }
        }
        case STATIC_SECRET -> {
          if (!scope.staticSecrets().contains(name)) {
            problems.add(where
                + " names secret '"
                + name
                + "' without an sds_config, so Envoy"
                + " looks it up among the bootstrap's static secrets, which do not include it");
          }
        }
      }
    }
  }

  /** Collects the references inside one resource, Any fields included. */
  private static final class References implements MessageWalker.Visitor {

    private final String resource;
    private final List<Reference> found = new ArrayList<>();

    private References(String resource) {
      this.resource = resource;
    }

    static List<Reference> of(Message resource) {
      References refs = new References(MessageWalker.describe(resource));
      MessageWalker.walk(resource, refs);
      return refs.found;
    }

    @Override
    public void unresolvedAny(String path, String problem) {
      // EnvoyValidator reports these; nothing inside can be resolved here.
    }

    @Override
    public void message(String path, Message message, boolean typedByConfig) {
      if (message instanceof RouteAction action) {
        if (action.getClusterSpecifierCase() == RouteAction.ClusterSpecifierCase.CLUSTER) {
          add(Kind.CLUSTER, path, "cluster", action.getCluster());
        }
      } else if (message instanceof WeightedCluster.ClusterWeight weight) {
        if (!weight.getName().isEmpty()) {
          add(Kind.CLUSTER, path, "name", weight.getName());
        }
      } else if (message instanceof RequestMirrorPolicy mirror) {
        if (!mirror.getCluster().isEmpty()) {
          add(Kind.CLUSTER, path, "cluster", mirror.getCluster());
        }
      } else if (message instanceof TcpProxy tcpProxy) {
        if (tcpProxy.getClusterSpecifierCase() == TcpProxy.ClusterSpecifierCase.CLUSTER) {
          add(Kind.CLUSTER, path, "cluster", tcpProxy.getCluster());
        }
      } else if (message instanceof TcpProxy.WeightedCluster.ClusterWeight weight) {
        add(Kind.CLUSTER, path, "name", weight.getName());
      } else if (message instanceof ClusterConfig aggregate) {
        for (int i = 0; i < aggregate.getClustersCount(); i++) {
          add(Kind.CLUSTER, path, "clusters[" + i + "]", aggregate.getClusters(i));
        }
      } else if (message instanceof GrpcService grpc) {
        if (grpc.hasEnvoyGrpc()) {
          add(Kind.CLUSTER, path, "envoy_grpc.cluster_name", grpc.getEnvoyGrpc().getClusterName());
        }
      } else if (message instanceof HttpUri uri) {
        if (uri.getHttpUpstreamTypeCase() == HttpUri.HttpUpstreamTypeCase.CLUSTER) {
          add(Kind.CLUSTER, path, "cluster", uri.getCluster());
        }
      } else if (message instanceof HttpConnectionManager hcm) {
        if (hcm.hasRds() && hcm.getRds().getConfigSource().hasAds()) {
          add(
              Kind.ROUTE_CONFIGURATION,
              path,
              "rds.route_config_name",
              hcm.getRds().getRouteConfigName());
        }
      } else if (message instanceof SdsSecretConfig sds) {
        if (!sds.hasSdsConfig()) {
          add(Kind.STATIC_SECRET, path, "name", sds.getName());
        } else if (sds.getSdsConfig().hasAds()) {
          add(Kind.ADS_SECRET, path, "name", sds.getName());
        }
      }
    }

    private void add(Kind kind, String path, String field, String name) {
      found.add(new Reference(kind, resource, MessageWalker.join(path, field), name));
    }
  }

  /** Problems in the order found, each once. */
  private static final class Problems {
    private final Set<String> problems = new LinkedHashSet<>();

    void add(String problem) {
      problems.add(problem);
    }

    List<String> list() {
      return List.copyOf(problems);
    }
  }
}
