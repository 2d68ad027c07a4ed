package dev.llmgw.controlplane;

import dev.llmgw.controlplane.mockprovider.MockProviderMain;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import dev.llmgw.tls.MutualTls;
import dev.llmgw.tls.TlsFiles;
import io.grpc.InsecureServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point: reads settings, starts the control plane, stops it gracefully on SIGTERM. With the
 * first argument {@code mock-provider} it runs the built-in mock LLM provider instead, so the one
 * jar serves a gateway without provider keys.
 */
public final class ControlPlaneMain {

  private static final Logger log = LoggerFactory.getLogger(ControlPlaneMain.class);

  private ControlPlaneMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length > 0 && args[0].equals("mock-provider")) {
      MockProviderMain.main(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    ControlPlaneConfig config;
    try {
      config = ControlPlaneConfig.fromArgs(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("control-plane: " + e.getMessage());
      System.exit(2);
      return;
    }
    MutualTls xdsTls = null;
    TlsFiles xdsTlsFiles = config.xdsTls();
    if (xdsTlsFiles != null) {
      try {
        xdsTls = MutualTls.load(xdsTlsFiles);
      } catch (IllegalArgumentException e) {
        System.err.println("control-plane: " + e.getMessage());
        System.exit(2);
        return;
      }
      ScheduledExecutorService reload = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tls-reload");
        t.setDaemon(true);
        return t;
      });
      xdsTls.watch(reload, MutualTls.RELOAD_INTERVAL);
    } else {
      log.warn(
          "no --xds-tls-cert-file: the xDS port is plaintext, so the providers' credentials in Envoy's "
              + "resources cross the network in clear text; keep it on loopback or a trusted network");
    }
    ControlPlane cp;
    try {
      cp = ControlPlane.start(
          config,
          NettyServerBuilder.forAddress(
              new InetSocketAddress(config.bindHost(), config.xdsPort()),
              xdsTls == null ? InsecureServerCredentials.create() : xdsTls.serverCredentials()),
          new EnvoyContractCheck());
    } catch (IllegalArgumentException | UncheckedIOException e) {
      // A setting that only shows itself at start (a token file, an unresolvable name): no trace.
      System.err.println("control-plane: " + e.getMessage());
      System.exit(2);
      return;
    }
    MutualTls tlsToClose = xdsTls;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(
            () -> {
              log.info(
                  "shutdown signal received; closing xDS streams within {}",
                  config.shutdownGrace());
              cp.close();
              if (tlsToClose != null) {
                tlsToClose.close();
              }
              log.info("control plane stopped");
              stopped.countDown();
            },
            "control-plane-shutdown"));
    log.info(
        "control plane up on {}: {} ({})",
        config.bindHost(),
        String.join(", ", ControlPlane.describe(cp)),
        xdsTls == null ? "xDS plaintext" : "xDS on mutual TLS");
    // gRPC's transport threads are daemons; the main thread holds the JVM until shutdown.
    stopped.await();
  }
}
