package dev.llmgw.controlplane.store;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child process of {@link FileConfigStoreCrashTest}: opens a store and commits as fast as it can
 * until it is killed, printing {@code ACK <version> <name>} after each commit returns. Each commit
 * creates {@code docs/doc-<i>}, moves {@code counters/last} to {@code i}, and alternately puts and
 * conditionally deletes {@code scratch/s}, so replay sees creates, updates and deletes.
 *
 * <p>Usage: {@code StoreCrashWriter <dir> <compact-after-records>}
 */
final class StoreCrashWriter {

  static final String DOCS = "docs";
  static final String COUNTERS = "counters";
  static final String SCRATCH = "scratch";

  private StoreCrashWriter() {}

  /** The body written for {@code doc-<i>}; sizes vary so records straddle pages differently. */
  static ObjectNode body(long i) {
    return JsonNodeFactory.instance.objectNode().put("i", i).put("padding", "x".repeat((int)
            (20 + (i * 37) % 300)));
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int compactAfter = Integer.parseInt(args[1]);
    // Raw stdout: one write(2) per line, so a kill never leaves half a line in the pipe.
    FileOutputStream out = new FileOutputStream(FileDescriptor.out);
    var compaction = new FileConfigStore.Compaction(compactAfter, Long.MAX_VALUE);
    try (FileConfigStore store = FileConfigStore.open(dir, compaction)) {
      StoreState state = store.state();
      long i =
          state.get(COUNTERS, "last").map(d -> d.body().get("i").asLong() + 1).orElse(0L);
      print(out, "OPEN " + state.version());
      while (true) {
        String name = "doc-" + i;
        List<Change> changes = new ArrayList<>();
        changes.add(Change.create(DOCS, name, body(i)));
        changes.add(
            Change.put(COUNTERS, "last", JsonNodeFactory.instance.objectNode().put("i", i)));
        var scratch = state.get(SCRATCH, "s");
        changes.add(
            scratch.isPresent()
                ? Change.delete(SCRATCH, "s", scratch.get().revision())
                : Change.create(SCRATCH, "s", body(i)));
        state = store.applyAll(changes);
        print(out, "ACK " + state.version() + " " + name);
        i++;
      }
    }
  }

  private static void print(FileOutputStream out, String line) throws IOException {
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
  }
}
