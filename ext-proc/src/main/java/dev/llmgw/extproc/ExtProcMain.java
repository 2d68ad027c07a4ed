package dev.llmgw.extproc;

import dev.llmgw.extproc.server.ExtProcServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Composition root of the ext-proc service: reads settings, starts the gRPC server, stops it on SIGTERM. */
public final class ExtProcMain {

  private static final Logger log = LoggerFactory.getLogger(ExtProcMain.class);

  private ExtProcMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("health")) {
      System.exit(HealthProbe.run(args.length > 1 ? args[1] : "127.0.0.1:" + ExtProcConfig.DEFAULT_GRPC_PORT));
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
    ExtProcServer server =
        ExtProcServer.start(NettyServerBuilder.forAddress(new InetSocketAddress(config.grpcPort())), config.shutdownGrace());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutdown signal received; draining streams for up to {}", config.shutdownGrace());
      server.close();
      log.info("ext-proc stopped");
    }, "ext-proc-shutdown"));
    log.info("ext-proc listening on port {} (ext_proc + grpc.health.v1)", server.port());
    server.awaitTermination();
  }
}
