package dev.llmgw.extproc;

import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.limits.LimitEnforcement;
import dev.llmgw.extproc.limits.LimitStore;
import dev.llmgw.extproc.limits.LocalLimitStore;
import dev.llmgw.extproc.limits.RedisLimitStore;
import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.metrics.MetricsEndpoint;
import dev.llmgw.extproc.pii.PiiProtection;
import dev.llmgw.extproc.policy.ControlPlaneChannel;
import dev.llmgw.extproc.policy.GatewayPolicy;
import dev.llmgw.extproc.policy.PolicyFeedClient;
import dev.llmgw.extproc.policy.PolicyFileWatcher;
import dev.llmgw.extproc.policy.PolicyStore;
import dev.llmgw.extproc.server.ExtProcServer;
import dev.llmgw.extproc.spend.SpendRecords;
import dev.llmgw.extproc.spend.SpendReporter;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.tls.MutualTls;
import dev.llmgw.tls.TlsFiles;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Composition root of the ext-proc service: reads settings, starts the servers, stops them on SIGTERM. */
public final class ExtProcMain {

  private static final Logger log = LoggerFactory.getLogger(ExtProcMain.class);

  private ExtProcMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("health")) {
      System.exit(HealthProbe.run(
          args.length > 1 ? args[1] : "127.0.0.1:" + ExtProcConfig.DEFAULT_GRPC_PORT));
      return;
    }
    ExtProcConfig config;
    try {
      config = ExtProcConfig.fromArgs(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("ext-proc: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ExtProcMetrics metrics = new ExtProcMetrics(registry);
    PolicyStore policies = new PolicyStore(GatewayPolicy.passThrough());
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "file-reload");
      t.setDaemon(true);
      return t;
    });
    @Nullable MutualTls serverTls;
    @Nullable MutualTls controlPlaneTls;
    try {
      serverTls = mutualTls(config.tls(), scheduler);
      controlPlaneTls = mutualTls(config.controlPlaneTls(), scheduler);
    } catch (IllegalArgumentException e) {
      System.err.println("ext-proc: " + e.getMessage());
      System.exit(2);
      return;
    }
    PolicyFileWatcher watcher = null;
    if (config.policyFile() != null) {
      watcher = new PolicyFileWatcher(config.policyFile(), policies, metrics);
      PolicyFileWatcher.LoadResult first = watcher.reload();
      if (!first.applied()) {
        System.err.println("ext-proc: " + first.message());
        System.exit(2);
        return;
      }
      if (config.controlPlane().isEmpty()) {
        watcher.start(scheduler, config.policyReload());
      } else {
        log.info(
            "policy file {} is the fallback until the control plane's feed answers; it is not watched",
            config.policyFile());
      }
    } else {
      log.info(
          "no --policy-file: running the built-in pass-through policy (every model passes unchanged)");
    }
    PolicyFeedClient feed = null;
    SpendReporter spend = SpendReporter.disabled();
    if (!config.controlPlane().isEmpty()) {
      ManagedChannel channel = ControlPlaneChannel.open(
          config.controlPlane(), config.controlPlaneTokenFile(), controlPlaneTls);
      feed = new PolicyFeedClient(
          channel,
          policies,
          metrics,
          scheduler,
          "ext-proc-" + ProcessHandle.current().pid());
      feed.start();
      log.info(
          "watching the policy feed of the control plane at {} ({})",
          config.controlPlane(),
          controlPlaneTls == null ? "plaintext" : "mutual TLS");
      spend = new SpendReporter(channel, config.spendSpoolDir(), registry, Clock.systemUTC());
      log.info(
          "reporting spend to the control plane's ledger, spooled in {}", config.spendSpoolDir());
    } else {
      log.info(
          "no --control-plane: spend is tagged in metadata and metrics but not recorded in a ledger");
    }
    MetricsEndpoint metricsEndpoint =
        MetricsEndpoint.start(config.bindHost(), config.metricsPort(), registry);
    if (serverTls == null) {
      log.warn(
          "no --tls-client-ca-file: the gRPC port is plaintext and takes ext_proc streams from "
              + "anyone who reaches {}:{}; keep it on loopback or a trusted network",
          config.bindHost(),
          config.grpcPort());
    }
    ExtProcServer server = ExtProcServer.start(
        NettyServerBuilder.forAddress(
            new InetSocketAddress(config.bindHost(), config.grpcPort()),
            serverTls == null ? InsecureServerCredentials.create() : serverTls.serverCredentials()),
        config.shutdownGrace(),
        policies,
        List.of(
            PiiProtection.listener(registry, piiHashKey(config)),
            TokenCounting.listener(registry),
            CostTagging.builder(registry)
                .sink(SpendRecords.sink(spend, Clock.systemUTC()))
                .build(),
            new LimitEnforcement(limitStore(config, registry), Clock.systemUTC(), registry)),
        metrics);
    PolicyFileWatcher toClose = watcher;
    PolicyFeedClient feedToClose = feed;
    SpendReporter spendToClose = spend;
    Runtime.getRuntime()
        .addShutdownHook(new Thread(
            () -> {
              log.info(
                  "shutdown signal received; draining streams for up to {}",
                  config.shutdownGrace());
              if (toClose != null) {
                toClose.close();
              }
              if (feedToClose != null) {
                feedToClose.close();
              }
              server.close();
              if (serverTls != null) {
                serverTls.close();
              }
              if (controlPlaneTls != null) {
                controlPlaneTls.close();
              }
              // After the streams drained: their last records are queued, and close() spools them.
              spendToClose.close();
              metricsEndpoint.close();
              log.info("ext-proc stopped");
            },
            "ext-proc-shutdown"));
    log.info(
        "ext-proc listening: gRPC {}:{} ({}; ext_proc + grpc.health.v1), metrics http://{}:{}/metrics, policy {}",
        config.bindHost(),
        server.port(),
        serverTls == null ? "plaintext" : "mutual TLS",
        config.bindHost(),
        metricsEndpoint.port(),
        policies.current().version());
    server.awaitTermination();
  }

  /** The TLS files loaded and watched for changes, or null when {@code files} is. */
  private static @Nullable MutualTls mutualTls(
      @Nullable TlsFiles files, ScheduledExecutorService scheduler) {
    if (files == null) {
      return null;
    }
    MutualTls tls = MutualTls.load(files);
    tls.watch(scheduler, MutualTls.RELOAD_INTERVAL);
    return tls;
  }

  /** The counters of budgets and rate limits: in this process, or in Redis shared by replicas. */
  private static LimitStore limitStore(ExtProcConfig config, MeterRegistry registry) {
    InetSocketAddress redis = ExtProcConfig.redisAddress(config.limitsStore());
    if (redis == null) {
      log.info(
          "budgets and rate limits count in this process (--limits-store=local); replicas do not share them");
      return LocalLimitStore.create();
    }
    log.info(
        "budgets and rate limits count in Redis at {}:{}", redis.getHostString(), redis.getPort());
    return RedisLimitStore.connect(
            redis.getHostString(), redis.getPort(), Duration.ofMillis(500), 16)
        .bindTo(registry);
  }

  /** The PII hash key from the configured file, or null (a random key, logged) when there is none. */
  private static byte @Nullable [] piiHashKey(ExtProcConfig config) throws java.io.IOException {
    if (config.piiHashKeyFile() == null) {
      log.info(
          "no --pii-hash-key-file: the PII 'hash' action uses a random key, so hashes change on restart");
      return null;
    }
    return java.nio.file.Files.readAllBytes(config.piiHashKeyFile());
  }
}
