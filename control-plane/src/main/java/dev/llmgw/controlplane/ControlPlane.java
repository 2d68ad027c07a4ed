package dev.llmgw.controlplane;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.policy.PolicyFeed;
import dev.llmgw.controlplane.rest.AdminApi;
import dev.llmgw.controlplane.rest.AdminAuth;
import dev.llmgw.controlplane.rest.ConfigApi;
import dev.llmgw.controlplane.rest.SpendApi;
import dev.llmgw.controlplane.spend.FileSpendLedger;
import dev.llmgw.controlplane.spend.InMemorySpendLedger;
import dev.llmgw.controlplane.spend.SpendLedger;
import dev.llmgw.controlplane.spend.SpendService;
import dev.llmgw.controlplane.store.Change;
import dev.llmgw.controlplane.store.ConfigStore;
import dev.llmgw.controlplane.store.ConflictException;
import dev.llmgw.controlplane.store.DataDirectory;
import dev.llmgw.controlplane.store.FileConfigStore;
import dev.llmgw.controlplane.store.InMemoryConfigStore;
import dev.llmgw.controlplane.xds.NodeGroups;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import dev.llmgw.controlplane.xds.XdsAuthentication;
import dev.llmgw.controlplane.xds.XdsServer;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running control plane: store, spend ledger, snapshot cache, publisher, xDS server (with the
 * policy feed and the spend service) and REST API, wired together. The composition root; tests
 * start it on free ports and close it.
 */
public final class ControlPlane implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

  private final ConfigStore store;
  private final SnapshotPublisher publisher;
  private final ConfigService service;
  private final XdsServer xds;
  private final AdminApi admin;
  private final String adminToken;
  private final PolicyFeed feed;
  private final SpendLedger ledger;

  private ControlPlane(
      ConfigStore store,
      SnapshotPublisher publisher,
      ConfigService service,
      XdsServer xds,
      AdminApi admin,
      String adminToken,
      PolicyFeed feed,
      SpendLedger ledger) {
    this.feed = feed;
    this.ledger = ledger;
    this.store = store;
    this.publisher = publisher;
    this.service = service;
    this.xds = xds;
    this.admin = admin;
    this.adminToken = adminToken;
  }

  /**
   * Opens the store (seeding it with the startup providers the first time), publishes its state,
   * then starts the servers; {@code xdsServer} carries the xDS port.
   */
  public static ControlPlane start(
      ControlPlaneConfig config,
      ServerBuilder<?> xdsServer,
      SnapshotPublisher.SnapshotCheck check) {
    return start(config, xdsServer, check, Clock.systemUTC());
  }

  /** As {@link #start(ControlPlaneConfig, ServerBuilder, SnapshotPublisher.SnapshotCheck)}, with the clock the ledger and its REST query use. */
  public static ControlPlane start(
      ControlPlaneConfig config,
      ServerBuilder<?> xdsServer,
      SnapshotPublisher.SnapshotCheck check,
      Clock clock) {
    requireNonNull(config, "config");
    requireNonNull(clock, "clock");
    GatewaySpec base = spec(config);
    String adminToken =
        requireNonNull(restToken(config.adminToken(), "admin-token", config.dataDir(), true));
    String readOnlyToken =
        restToken(config.readOnlyToken(), "read-only-token", config.dataDir(), false);
    AdminAuth auth = new AdminAuth(adminToken, readOnlyToken, config.openReads());
    if (readOnlyToken == null) {
      log.info(
          "no --read-only-token and no {}: REST reads need the admin token",
          config.dataDir().resolve("read-only-token").toAbsolutePath());
    }
    if (config.openReads()) {
      log.warn(
          "open-reads=true: REST reads need no token; anyone who reaches the REST port sees tenants, key "
              + "fingerprints, budgets, PII policies and spend");
    }
    ConfigStore store = openStore(config);
    SpendLedger ledger;
    try {
      ledger = openLedger(config, clock);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    try {
      seed(store, base);
      NodeGroups groups = new NodeGroups();
      SimpleCache<String> cache = new SimpleCache<>(groups);
      // Snapshot versions are the store's versions, so they keep increasing across restarts.
      SnapshotPublisher publisher = new SnapshotPublisher(cache, groups, check, 0);
      PolicyFeed feed = new PolicyFeed();
      ConfigService service = new ConfigService(
          store,
          publisher,
          base,
          ConfigApi::parseProvider,
          ConfigApi::parseRoute,
          ConfigApi::parseModel,
          feed);
      service.publishCurrent();
      XdsServer xds = XdsServer.start(
          xdsServer,
          cache,
          config.shutdownGrace(),
          xdsAuthentication(config),
          feed,
          new SpendService(ledger));
      AdminApi admin;
      try {
        admin = AdminApi.start(
            config.bindHost(),
            config.adminPort(),
            publisher,
            new ConfigApi(service, auth),
            new SpendApi(ledger, auth, clock));
      } catch (RuntimeException e) {
        xds.close();
        throw e;
      }
      return new ControlPlane(store, publisher, service, xds, admin, adminToken, feed, ledger);
    } catch (RuntimeException e) {
      ledger.close();
      store.close();
      throw e;
    }
  }

  /** The spec the startup settings describe, with ext-proc addresses resolved for EDS. */
  static GatewaySpec spec(ControlPlaneConfig config) {
    return new GatewaySpec(
        config.listenerPort(),
        config.extProc().stream().map(ControlPlane::resolve).toList(),
        config.extProcMessageTimeout(),
        config.providers(),
        config.defaultProvider(),
        config.trustedCaFile(),
        List.of(),
        java.util.Map.of(),
        java.util.Set.of(),
        java.util.Set.of(),
        config.extProcTls());
  }

  private static ConfigStore openStore(ControlPlaneConfig config) {
    if (config.store().equals("memory")) {
      log.warn(
          "store=memory: providers and routes changed over REST are lost when the control plane stops");
      return new InMemoryConfigStore();
    }
    log.info("store: {}", config.dataDir().toAbsolutePath());
    return FileConfigStore.open(config.dataDir().resolve("store"));
  }

  /** The ledger lives next to the store and follows its kind: a journal under {@code <data-dir>/spend}, or memory. */
  private static SpendLedger openLedger(ControlPlaneConfig config, Clock clock) {
    if (config.store().equals("memory")) {
      log.warn("store=memory: spend reported by ext-proc is lost when the control plane stops");
      return new InMemorySpendLedger(clock);
    }
    Path dir = config.dataDir().resolve("spend");
    log.info("spend ledger: {}", dir.toAbsolutePath());
    return FileSpendLedger.open(dir, clock);
  }

  /** The first start of an empty store takes the providers from the startup settings. */
  private static void seed(ConfigStore store, GatewaySpec base) {
    if (store.state().version() != 0) {
      return;
    }
    ObjectMapper json = new ObjectMapper();
    List<Change> changes = new ArrayList<>();
    for (Provider p : base.providers()) {
      ObjectNode doc = json.createObjectNode();
      doc.put("base_url", p.baseUrl());
      doc.put("connect_timeout_ms", p.connectTimeout().toMillis());
      changes.add(new Change(
          Change.Op.PUT, ConfigService.KIND_PROVIDERS, p.name(), doc, OptionalLong.of(0)));
    }
    try {
      store.applyAll(changes);
    } catch (ConflictException e) {
      throw new IllegalStateException("seeding an empty store conflicted: " + e.getMessage(), e);
    }
    log.info("seeded the store with {} providers from the startup settings", changes.size());
  }

  /**
   * The xDS port's bearer token checks (Envoy's and ext-proc's), or null (with a warning) when no
   * token file is configured.
   */
  private static @Nullable XdsAuthentication xdsAuthentication(ControlPlaneConfig config) {
    Path envoyTokenFile = config.xdsTokenFile();
    Path extProcTokenFile = config.extProcTokenFile();
    XdsAuthentication authentication =
        XdsAuthentication.fromFiles(envoyTokenFile, extProcTokenFile);
    if (authentication == null) {
      log.warn(
          "no --xds-token-file nor --ext-proc-token-file: the xDS port has no authentication. Whoever reaches "
              + "it receives the providers' credentials and can report spend; set both tokens or keep the port "
              + "on a trusted network");
      return null;
    }
    if (envoyTokenFile == null) {
      log.warn(
          "no --xds-token-file: Envoy's discovery services on the xDS port refuse every caller");
    } else {
      log.info(
          "Envoy's discovery services on the xDS port need the bearer token in {}",
          envoyTokenFile.toAbsolutePath());
    }
    if (extProcTokenFile == null) {
      log.warn(
          "no --ext-proc-token-file: the policy feed and the spend service on the xDS port refuse every "
              + "caller (give ext-proc its own token there and in its --control-plane-token-file)");
    } else {
      log.info(
          "the policy feed and the spend service on the xDS port need the bearer token in {}",
          extProcTokenFile.toAbsolutePath());
    }
    return authentication;
  }

  /**
   * A REST token: the one configured as {@code setting}, else the one in {@code <data-dir>/<setting>},
   * else one generated into that file (owner-only) if {@code generate}, else null; never logged.
   *
   * @throws IllegalArgumentException for a weak token or an empty file, naming the setting or file
   */
  private static @Nullable String restToken(
      String configured, String setting, Path dataDir, boolean generate) {
    if (!configured.isEmpty()) {
      return configured; // checked by ControlPlaneConfig
    }
    Path file = dataDir.resolve(setting);
    try {
      if (Files.exists(file)) {
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.isEmpty()) {
          throw new IllegalArgumentException(setting + " file " + file.toAbsolutePath()
              + " is empty (expected: a token, or no file"
              + (generate ? " to have one generated)" : ")"));
        }
        return ControlPlaneConfig.requireToken(token, setting + " file " + file.toAbsolutePath());
      }
      if (!generate) {
        return null;
      }
      Files.createDirectories(dataDir, DataDirectory.ownerOnly(dataDir, true));
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      String token = HexFormat.of().formatHex(random);
      Files.createFile(file, DataDirectory.ownerOnly(file, false));
      Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
      log.info(
          "no --{} given: generated one into {} (use it as a bearer token)",
          setting,
          file.toAbsolutePath());
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read or create the " + setting + " file " + file + ": " + e.getMessage(), e);
    }
  }

  /** EDS endpoints must be IP addresses (Envoy does not resolve them), so names are resolved here. */
  private static Endpoint resolve(Endpoint e) {
    try {
      return new Endpoint(InetAddress.getByName(e.host()).getHostAddress(), e.port());
    } catch (UnknownHostException ex) {
      throw new IllegalArgumentException(
          "ext-proc: cannot resolve '" + e.host()
              + "' (expected: a resolvable name or an IP address)",
          ex);
    }
  }

  public SnapshotPublisher publisher() {
    return publisher;
  }

  public ConfigService service() {
    return service;
  }

  /** The policy feed ext-proc instances watch on the xDS port. */
  public PolicyFeed policyFeed() {
    return feed;
  }

  /** The spend ledger that {@code llmgw.spend.v1.SpendService} on the xDS port writes to. */
  public SpendLedger spendLedger() {
    return ledger;
  }

  public String adminToken() {
    return adminToken;
  }

  public int xdsPort() {
    return xds.port();
  }

  public int adminPort() {
    return admin.port();
  }

  /**
   * Stops taking requests, lets open xDS streams and spend calls end within the grace period, closes
   * the ledger and the store.
   */
  @Override
  public void close() {
    admin.close();
    xds.close();
    ledger.close();
    store.close();
  }

  static List<String> describe(ControlPlane cp) {
    return List.of("xDS (ADS) on port " + cp.xdsPort(), "REST on port " + cp.adminPort());
  }
}
