package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * An in-process gRPC server and a channel to it, both on a direct executor so a processor's replies
 * reach the driver without thread hops. Close it to release both.
 */
public final class InProcessExtProc implements AutoCloseable {

  private final ManagedChannel channel;
  private final AutoCloseable server;

  private InProcessExtProc(ManagedChannel channel, AutoCloseable server) {
    this.channel = channel;
    this.server = server;
  }

  /** Starts an in-process server with {@code services} and connects to it. */
  public static InProcessExtProc serving(BindableService... services) {
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
    for (BindableService s : services) {
      builder.addService(s);
    }
    Server server;
    try {
      server = builder.build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new InProcessExtProc(channel(name), () -> {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    });
  }

  /** Connects to a server someone else started on the in-process name {@code name}; closes it too. */
  public static InProcessExtProc connectingTo(String name, AutoCloseable server) {
    return new InProcessExtProc(
        channel(requireNonNull(name, "name")), requireNonNull(server, "server"));
  }

  private static ManagedChannel channel(String name) {
    return InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  public ManagedChannel channel() {
    return channel;
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }
}
