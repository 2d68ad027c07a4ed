package dev.llmgw.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a process in the middle of a stream of commits (and of compactions): after a restart
 * every acknowledged commit is present and versions continue from where they were.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileConfigStoreCrashTest {

  private static final Pattern ACK = Pattern.compile("ACK (\\d+) doc-(\\d+)");
  /**
   * Per round: the writer's compaction threshold (1 compacts on every commit, so the kill most likely
   * lands inside a compaction), ACKs to read before ordering the kill, and how long after that order
   * it lands, to hit different points of a commit.
   */
  private static final int[] COMPACT_AFTER_RECORDS = {20, 1, 20, 1};

  private static final int[] ACKS_BEFORE_KILL = {200, 60, 250, 60};
  private static final long[] KILL_DELAY_MICROS = {0, 0, 1500, 1000};

  @TempDir
  Path tmp;

  @Test
  void everyAcknowledgedWriteSurvivesKillDashNineAndVersionsContinue() throws Exception {
    Path dir = tmp.resolve("store");
    Map<Long, Long> acked = new LinkedHashMap<>(); // doc index -> version of its commit
    long expectedOpenVersion = 0;
    List<String> summary = new ArrayList<>();
    ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();

    for (int round = 0; round < ACKS_BEFORE_KILL.length; round++) {
      long started = System.nanoTime();
      Path stderr = tmp.resolve("writer-" + round + ".err");
      Process writer = new ProcessBuilder(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx128m",
              "-XX:TieredStopAtLevel=1",
              "-Dorg.slf4j.simpleLogger.logFile=System.err",
              "-cp",
              System.getProperty("java.class.path"),
              StoreCrashWriter.class.getName(),
              dir.toString(),
              Integer.toString(COMPACT_AFTER_RECORDS[round]))
          .redirectError(stderr.toFile())
          .start();
      long lastAckedVersion;
      int beforeKill = 0;
      int afterKillOrder = 0;
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(writer.getInputStream(), StandardCharsets.US_ASCII))) {
        String open = out.readLine();
        if (open == null) {
          fail("the writer exited before opening the store:\n" + Files.readString(stderr));
        }
        assertThat(open).isEqualTo("OPEN " + expectedOpenVersion);
        assertThatThrownBy(() -> FileConfigStore.open(dir))
            .isInstanceOf(StoreException.class)
            .hasMessageContaining("is in use by another process (pid " + writer.pid() + ")");

        lastAckedVersion = expectedOpenVersion;
        while (beforeKill < ACKS_BEFORE_KILL[round]) {
          String line = out.readLine();
          if (line == null) {
            fail("the writer died after " + beforeKill + " ACKs:\n" + Files.readString(stderr));
          }
          lastAckedVersion = record(line, lastAckedVersion, acked);
          beforeKill++;
        }
        // SIGKILL, a little later each round to land on different points of a commit or compaction.
        // Through the handle: Process.destroyForcibly() would also close our end of the pipe.
        killer.schedule(
            () -> writer.toHandle().destroyForcibly(),
            KILL_DELAY_MICROS[round],
            TimeUnit.MICROSECONDS);
        // Every line up to the kill was printed after its commit returned: acknowledged too.
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          lastAckedVersion = record(line, lastAckedVersion, acked);
          afterKillOrder++;
        }
      }
      assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(writer.exitValue()).as("exit status of a SIGKILLed process").isEqualTo(128 + 9);
      List<String> leftovers;
      try (var files = Files.list(dir)) {
        leftovers = files
            .map(f -> f.getFileName().toString())
            .filter(f -> f.endsWith(FileConfigStore.TMP_SUFFIX))
            .toList();
      }

      try (FileConfigStore store = FileConfigStore.open(dir)) {
        StoreState state = store.state();
        assertThat(state.version()).isGreaterThanOrEqualTo(lastAckedVersion);
        for (Map.Entry<Long, Long> ack : acked.entrySet()) {
          StoredDocument doc =
              state.get(StoreCrashWriter.DOCS, "doc-" + ack.getKey()).orElse(null);
          assertThat(doc)
              .as("doc-%d, acknowledged at version %d", ack.getKey(), ack.getValue())
              .isNotNull();
          assertThat(doc.revision()).isEqualTo(ack.getValue());
          assertThat(doc.body())
              .isEqualTo(StoreCodec.normalize(StoreCrashWriter.body(ack.getKey())));
        }
        long lastIndex = state
            .get(StoreCrashWriter.COUNTERS, "last")
            .orElseThrow()
            .body()
            .get("i")
            .asLong();
        long lastAckedIndex =
            acked.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(lastIndex).isGreaterThanOrEqualTo(lastAckedIndex);
        assertThat(state.list(StoreCrashWriter.DOCS)).hasSize((int) lastIndex + 1);

        StoreState next = store.apply(
            Change.create("marks", "after-round-" + round, StoreCrashWriter.body(round)));
        assertThat(next.version()).isEqualTo(state.version() + 1);
        expectedOpenVersion = next.version();
        summary.add(String.format(
            "round %d (compact after %d): %d ACKs, then %d more after ordering the kill"
                + " (+%d us); last ACK v%d, reopened at v%d (%d unacknowledged commit(s) survived);"
                + " compaction files left: %s; %.1f s",
            round + 1,
            COMPACT_AFTER_RECORDS[round],
            beforeKill,
            afterKillOrder,
            KILL_DELAY_MICROS[round],
            lastAckedVersion,
            state.version(),
            state.version() - lastAckedVersion,
            leftovers,
            (System.nanoTime() - started) / 1e9));
      }
      if (round == 0) {
        assertThat(dir.resolve(FileConfigStore.SNAPSHOT_FILE))
            .as("compaction ran during the stream")
            .exists();
      }
    }
    killer.shutdownNow();
    summary.forEach(System.out::println);
  }

  /** Parses one ACK line, checks versions only go up by one, and returns the acknowledged version. */
  private static long record(String line, long previous, Map<Long, Long> acked) {
    Matcher m = ACK.matcher(line);
    assertThat(m.matches()).as("writer output line '%s'", line).isTrue();
    long version = Long.parseLong(m.group(1));
    assertThat(version).as("version after v%d", previous).isEqualTo(previous + 1);
    acked.put(Long.parseLong(m.group(2)), version);
    return version;
  }
}
