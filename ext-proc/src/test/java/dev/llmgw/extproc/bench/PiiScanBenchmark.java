package dev.llmgw.extproc.bench;

import dev.llmgw.extproc.pii.Finding;
import dev.llmgw.extproc.pii.PiiScanner;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link PiiScanner#standard()} over 2 KB and 64 KB of English prose, once without PII (the common
 * case on the request path, which must stay above 100 MB/s per core) and once with about one entity
 * per 200 bytes. The secondary result {@code megabytes} is the throughput in MB/s (10^6 bytes of
 * UTF-8 per second); the primary one is scans per second. Not run by the build; see
 * docs/benchmarks.md for the command.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PiiScanBenchmark {

  @Param({"2KB", "64KB"})
  public String size;

  /** "clean": prose with ordinary numbers and punctuation but no PII; "pii": about one entity per 200 bytes. */
  @Param({"clean", "pii"})
  public String content;

  private final PiiScanner scanner = PiiScanner.standard();
  private String text;
  private double megabytesPerScan;

  /** Counts the bytes scanned so that JMH reports MB/s next to scans/s. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    /** Megabytes (10^6 bytes) scanned; reported as MB/s. */
    public double megabytes;

    @Setup(Level.Iteration)
    public void reset() {
      megabytes = 0;
    }
  }

  @Setup
  public void setUp() {
    int target = size.equals("2KB") ? 2 * 1024 : 64 * 1024;
    text = build(target, content.equals("pii"));
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    megabytesPerScan = bytes / 1e6;
    List<Finding> findings = scanner.scan(text);
    if (content.equals("clean") && !findings.isEmpty()) {
      throw new IllegalStateException("clean text has findings: " + findings);
    }
    if (content.equals("pii") && findings.size() < bytes / 300) {
      throw new IllegalStateException(
          "pii text has only " + findings.size() + " findings in " + bytes + " bytes");
    }
    System.out.printf(
        "%n%s %s: %d bytes, %d findings (one per %d bytes)%n",
        size, content, bytes, findings.size(), findings.isEmpty() ? 0 : bytes / findings.size());
  }

  @Benchmark
  public int scan(Bytes counter) {
    counter.megabytes += megabytesPerScan;
    return scanner.scan(text).size();
  }

  /** Sentences drawn in a fixed pseudo-random order until {@code target} chars would be exceeded. */
  static String build(int target, boolean pii) {
    Random random = new Random(42);
    StringBuilder out = new StringBuilder(target);
    while (true) {
      String next;
      if (pii) {
        // sentences average ~90 bytes; 2 in 5 carry an entity (a few carry two) → one per ~200
        // bytes
        next = random.nextInt(5) < 2
            ? PII[random.nextInt(PII.length)]
            : CLEAN[random.nextInt(CLEAN.length)];
      } else {
        next = CLEAN[random.nextInt(CLEAN.length)];
      }
      if (out.length() + next.length() + 1 > target) {
        return out.toString();
      }
      out.append(next).append(random.nextInt(6) == 0 ? '\n' : ' ');
    }
  }

  private static final String[] CLEAN = {
    "In 2023 revenue grew 12% to $4.5 million, and the team shipped 37 releases across 14 regions.",
    "The p99 latency dropped from 480 ms to 212 ms after we moved the cache in front of the database.",
    "Version 2.10.0 fixes the crash reported in issue #4812; upgrade before March 31.",
    "Please summarise the attached meeting notes in three bullet points, no more than 50 words each.",
    "The train leaves at 08:15 from platform 4 and arrives at 10:45, about 2.5 hours later.",
    "We measured 1,200 requests per second on a 4-core machine with 16 GB of RAM.",
    "Chapter 3 explains why the algorithm runs in O(n log n) time and uses O(n) memory.",
    "Our Q3 budget is EUR 250,000; marketing asked for another 15% on top of that.",
    "Set the timeout to 30 seconds and retry up to 5 times with exponential backoff.",
    "The report from 2024-05-01 lists 3 open incidents, 12 resolved ones and 1 postmortem.",
    "Write a haiku about autumn leaves, then translate it into French and German.",
    "The recipe needs 250 g of flour, 2 eggs, 100 ml of milk and a pinch of salt.",
    "Compare Python 3.12 with Java 21 for a small web service: startup, memory, ecosystem.",
    "He ran the marathon in 3:42:17, beating his previous best by almost 9 minutes.",
    "Room 204 on the 2nd floor is booked from 14:00 to 15:30 for the design review.",
    "The model scored 86.4 on the benchmark, up from 81.2 in the previous release.",
    "Explain the difference between TCP and UDP to a 10-year-old, using a postal analogy.",
    "About 70% of the 8,000 survey answers mention price; only 5% mention support.",
    "Refactor the function so it handles empty lists, then add 3 unit tests for edge cases.",
    "The bridge is 1,280 m long, opened in 1937 and carries about 112,000 vehicles a day.",
    "Use the @Override annotation and keep methods under 40 lines where you can.",
    "Draft a polite reply declining the invitation for Friday, June 14, at 7 pm.",
    "Kubernetes 1.29 deprecates the flag; see the changelog, section 4.2, for details.",
    "Our office is closed on 25 and 26 December; support answers within 24 hours otherwise.",
  };

  private static final String[] PII = {
    "Please send the signed contract to jane.roe@example.com before the end of the week, thanks.",
    "You can call our London office on +44 20 7946 0958 between nine and five on weekdays.",
    "The customer paid with card 4111 1111 1111 1111 but the charge was declined twice today.",
    "Wire the deposit to IBAN DE89 3704 0044 0532 0130 00 and add the booking reference.",
    "His SSN is 234-56-7890 according to the form he submitted with the application.",
    "The failing requests all came from 203.0.113.42 and started right after the deploy.",
    "Someone pasted the key AKIAQWERTY234567ABCD into the chat; please rotate it now.",
    "Reach Max at (415) 555-0132 or by e-mail at max.mustermann@example.de for details.",
    "Use the token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 only for the CI pipeline.",
    "The IPv6 peer 2001:db8:85a3::8a2e:370:7334 keeps resetting the connection every minute.",
  };
}
