package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.store.DataDirectory.closeQuietly;
import static dev.llmgw.controlplane.store.DataDirectory.ownerOnly;
import static dev.llmgw.controlplane.store.DataDirectory.writeFully;
import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.store.DataDirectory;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded ledger: a totals file and an append-only journal in one directory. Each stored batch
 * is one journal line, forced to disk before {@link #record} returns, so a crash at any point loses
 * nothing that was acknowledged; a line torn by a crash can only be the last one, which nobody was
 * told about, and it is cut off on the next open. On open the totals file and the journal are
 * replayed into the daily totals kept in memory, so queries never touch the disk.
 *
 * <p>Compaction keeps the journal to the recent days: records of days before the id window (plus
 * {@link Compaction#marginDays()}) are folded into the totals file, whose rows per (day, tenant, API
 * key, model) answer every query exactly as the records did; only their other attributes
 * (application, user, route, ...) are gone. It runs in the background, at open and after a batch,
 * once the foldable records take {@link Compaction#minFoldBytes()} and a quarter of the journal. It
 * writes the new totals and the new journal (with the next generation) to temporary files off the
 * lock, then, holding the lock only to copy the lines appended meanwhile, renames the totals and
 * then the journal, forcing the directory after each. A crash between the two renames leaves new
 * totals next to the old journal; the totals say up to which offset and day that journal is already
 * folded, so the next open reads it without counting anything twice and finishes the compaction.
 * A lock file keeps a second process out of the directory. Format and guarantees: {@code
 * docs/ledger.md}.
 */
public final class FileSpendLedger implements SpendLedger {

  private static final Logger log = LoggerFactory.getLogger(FileSpendLedger.class);

  static final String LOCK_FILE = DataDirectory.LOCK_FILE;
  static final String JOURNAL_FILE = "journal";
  static final String TOTALS_FILE = "totals";
  static final String TMP_SUFFIX = ".tmp";
  /** A compaction runs only if what it folds is at least 1/this of the journal: each run copies the rest. */
  private static final int FOLD_SHARE_DIVISOR = 4;
  /** Lines appended during a compaction are copied off the lock until fewer bytes than this are left. */
  private static final long CATCH_UP_BYTES = 1024 * 1024;

  private static final int CATCH_UP_ROUNDS = 4;

  /**
   * When the journal is compacted, and what it keeps as records.
   *
   * @param marginDays records stay records for this many days beyond the id window: the records of
   *     day {@code today - dedupWindowDays - marginDays} and later are kept, older days are folded.
   *     One day (the default) keeps the ids of every record a duplicate check could still need if
   *     the clock steps back by up to a day or the window is raised by a day. Raise it to keep
   *     per-record detail (user, application, route, ...) on disk longer
   * @param minFoldBytes journal bytes (an estimate, per day of the records) that must be foldable
   *     before a compaction runs; below that, replaying them costs less than rewriting the journal
   */
  public record Compaction(int marginDays, long minFoldBytes) {

    /** One day of margin; compact once 64 MiB (about 140,000 records) can be folded. */
    public static final Compaction DEFAULT = new Compaction(1, 64L * 1024 * 1024);

    public Compaction {
      if (marginDays < 0) {
        throw new IllegalArgumentException("marginDays: " + marginDays + " (expected: >= 0)");
      }
      if (minFoldBytes <= 0) {
        throw new IllegalArgumentException("minFoldBytes: " + minFoldBytes + " (expected: > 0)");
      }
    }
  }

  /** The points of a compaction, in order; a crash after any of them loses and doubles nothing. */
  enum Step {
    /** What to fold is decided; nothing written yet. */
    PLANNED,
    /** {@code totals.tmp} is complete and forced. */
    TOTALS_WRITTEN,
    /** {@code journal.tmp} holds the kept records of the planned part of the journal. */
    JOURNAL_FILTERED,
    /** {@code journal.tmp} also holds the lines appended meanwhile, and is forced. Under the lock. */
    JOURNAL_WRITTEN,
    /** {@code totals} is the new file and the directory is forced; the old journal is still in place. Under the lock. */
    TOTALS_RENAMED,
    /** {@code journal} is the new file, in use, and the directory is forced. Under the lock. */
    JOURNAL_RENAMED
  }

  /** Sees every {@link Step} of a compaction, for tests; steps marked "under the lock" must not record. */
  @FunctionalInterface
  interface StepHook {
    void reached(Step step) throws IOException;
  }

  /**
   * What one compaction did.
   *
   * @param foldedRecords records of days before {@code foldedBefore} taken out of the journal
   * @param keptRecords records of the planned part of the journal that stayed (lines appended during
   *     the compaction are not counted)
   * @param blockedMillis how long writers waited for it: while the totals were copied from memory, and
   *     while the last appended lines were copied and the files renamed
   */
  record Compacted(
      long generation,
      LocalDate foldedBefore,
      long foldedRecords,
      long keptRecords,
      long totalsRows,
      long journalBytesBefore,
      long journalBytesAfter,
      long totalsBytes,
      long millis,
      long blockedMillis) {}

  /** What a compaction starts from, taken between batches in {@code nanos}. */
  private record Plan(
      long generation,
      LocalDate foldBefore,
      long start,
      long end,
      List<SpendRow> rows,
      Map<LocalDate, Long> bytesByDay,
      long nanos) {}

  /** What {@link #filterLines} wrote. */
  private static final class Filtered {
    final NavigableMap<LocalDate, Long> bytesByDay = new TreeMap<>();
    long folded;
    long kept;
  }

  private final DataDirectory data;
  private final Path dir;
  private final Path journalPath;
  private final Path totalsPath;
  private final Clock clock;
  private final SpendBook book;
  private final Compaction compaction;
  private final Executor compactor;
  /** The compactor's executor when the ledger made it (and shuts it down), else null. */
  private final @Nullable ExecutorService ownedCompactor;
  /** Held for a whole compaction, so that only one runs and {@link #close} can wait for it. */
  private final ReentrantLock compacting = new ReentrantLock();

  private final AtomicBoolean compactionQueued = new AtomicBoolean();
  private volatile boolean compactionDue;
  private volatile StepHook hook = step -> {};

  // Guarded by this.
  @SuppressWarnings(
      "NullAway.Init") // set by recover(), which open() calls right after the constructor
  private FileChannel journal;

  private long journalBytes;
  /** Where the batch lines of the journal start, after its header. */
  private long journalStart;

  private long generation;
  /** Every record of a day before this one is in the totals file (or in the journal, if it came late); null before the first compaction. */
  private @Nullable LocalDate foldedBefore;
  /** Journal bytes per day of the records they hold, estimated (a line's length is shared among its records). */
  private NavigableMap<LocalDate, Long> bytesByDay = new TreeMap<>();
  /** After a failed compaction, the next one waits until the journal reaches this size. */
  private long retryAtBytes;

  private long batches;
  private @Nullable SpendLedgerException failure;
  private volatile boolean closed;

  private FileSpendLedger(
      DataDirectory data,
      Clock clock,
      int dedupWindowDays,
      Compaction compaction,
      Executor compactor,
      @Nullable ExecutorService ownedCompactor) {
    this.data = data;
    this.dir = data.path();
    this.journalPath = dir.resolve(JOURNAL_FILE);
    this.totalsPath = dir.resolve(TOTALS_FILE);
    this.clock = clock;
    this.book = new SpendBook(clock, dedupWindowDays);
    this.compaction = compaction;
    this.compactor = compactor;
    this.ownedCompactor = ownedCompactor;
  }

  /** Opens (creating if needed) the ledger in {@code dir}, remembering ids for {@value #DEFAULT_DEDUP_WINDOW_DAYS} days. */
  public static FileSpendLedger open(Path dir, Clock clock) {
    return open(dir, clock, DEFAULT_DEDUP_WINDOW_DAYS);
  }

  /** Opens (creating if needed) the ledger in {@code dir}, with the default {@link Compaction}. */
  public static FileSpendLedger open(Path dir, Clock clock, int dedupWindowDays) {
    return open(dir, clock, dedupWindowDays, Compaction.DEFAULT);
  }

  /**
   * Opens (creating if needed) the ledger in {@code dir}: takes the directory's lock, reads the
   * totals file, replays the journal and cuts off a torn last line. Compactions run on a thread of
   * the ledger's own, stopped by {@link #close}.
   *
   * @throws SpendLedgerException if another process holds the directory, a file is damaged (the
   *     journal anywhere but in its last line), or the directory cannot be read or written
   */
  public static FileSpendLedger open(
      Path dir, Clock clock, int dedupWindowDays, Compaction compaction) {
    ExecutorService own = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "spend-compaction");
      t.setDaemon(true);
      return t;
    });
    try {
      return open(dir, clock, dedupWindowDays, compaction, own, own);
    } catch (RuntimeException e) {
      own.shutdown();
      throw e;
    }
  }

  /** As {@link #open(Path, Clock, int, Compaction)}, compacting on {@code compactor} (which stays the caller's). */
  static FileSpendLedger open(
      Path dir, Clock clock, int dedupWindowDays, Compaction compaction, Executor compactor) {
    return open(dir, clock, dedupWindowDays, compaction, compactor, null);
  }

  private static FileSpendLedger open(
      Path dir,
      Clock clock,
      int dedupWindowDays,
      Compaction compaction,
      Executor compactor,
      @Nullable ExecutorService ownedCompactor) {
    requireNonNull(dir, "dir");
    requireNonNull(clock, "clock");
    requireNonNull(compaction, "compaction");
    requireNonNull(compactor, "compactor");
    DataDirectory data;
    try {
      data = DataDirectory.take(
          dir,
          "the spend ledger",
          "FileSpendLedger",
          "one control plane per data directory; "
              + "stop the other one, or give this one its own --data-dir");
    } catch (DataDirectory.UnavailableException e) {
      throw new SpendLedgerException(e.getMessage(), e.getCause());
    }
    FileSpendLedger ledger = null;
    try {
      ledger =
          new FileSpendLedger(data, clock, dedupWindowDays, compaction, compactor, ownedCompactor);
      ledger.recover();
    } catch (RuntimeException e) {
      if (ledger != null) {
        ledger.close();
      } else {
        data.close();
      }
      throw e;
    }
    if (ledger.compactionDue) {
      ledger.scheduleCompaction();
    }
    return ledger;
  }

  @Override
  public Recorded record(List<Spend> records, String source) {
    requireNonNull(source, "source");
    Recorded recorded = book.record(records, fresh -> append(fresh, source));
    if (compactionDue) {
      scheduleCompaction();
    }
    return recorded;
  }

  @Override
  public List<SpendRow> query(SpendQuery query) {
    return book.query(query);
  }

  @Override
  public int dedupWindowDays() {
    return book.dedupWindowDays();
  }

  /** Record ids held in memory for duplicate detection. */
  public long rememberedIds() {
    return book.rememberedIds();
  }

  /** Stops a compaction in progress (its temporary files are deleted), then releases the directory. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (ownedCompactor != null) {
      ownedCompactor.shutdown();
    }
    compacting.lock(); // A compaction sees `closed` after at most one line and stops.
    try {
      synchronized (this) {
        closeQuietly(journal);
        data.close();
      }
    } finally {
      compacting.unlock();
    }
  }

  @Override
  public String toString() {
    return "FileSpendLedger[" + dir + "]";
  }

  synchronized long generation() {
    return generation;
  }

  synchronized long journalBytes() {
    return journalBytes;
  }

  void onCompactionStep(StepHook hook) {
    this.hook = requireNonNull(hook, "hook");
  }

  /**
   * Folds the records of days before the id window and margin into the totals file and rewrites the
   * journal without them, now, whether or not it is worth it. Writers wait only while the lines
   * they appended meanwhile are copied and the files are renamed.
   *
   * @throws IOException if a file could not be written; the ledger then goes on with the files it had,
   *     unless the failure came after the new totals were renamed into place (then it refuses writes
   *     until it is reopened, which finishes the compaction)
   */
  Compacted compact() throws IOException {
    compacting.lock();
    // An interrupt would close the channels half-way; the flag is handed back afterwards.
    boolean interrupted = Thread.interrupted();
    try {
      return compactHoldingCompacting();
    } finally {
      compacting.unlock();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Compacted compactHoldingCompacting() throws IOException {
    long started = System.nanoTime();
    Plan plan = book.betweenBatches(this::plan);
    long next = plan.generation() + 1;
    Path totalsTmp = dir.resolve(TOTALS_FILE + TMP_SUFFIX);
    Path journalTmp = dir.resolve(JOURNAL_FILE + TMP_SUFFIX);
    FileChannel source = null;
    FileChannel[] out = new FileChannel[1];
    try {
      hook.reached(Step.PLANNED);
      source = FileChannel.open(journalPath, StandardOpenOption.READ);
      List<SpendRow> rows = new ArrayList<>(plan.rows());
      rows.sort(SpendBook.ROW_ORDER);
      TotalsFile.Snapshot totals =
          new TotalsFile.Snapshot(next, plan.foldBefore(), plan.end(), rows);
      writeTotals(totalsTmp, totals);
      hook.reached(Step.TOTALS_WRITTEN);

      out[0] = openTmp(journalTmp);
      byte[] header = JournalCodec.header(next);
      writeFully(out[0], ByteBuffer.wrap(header), 0);
      out[0].position(header.length);
      Filtered kept = filterLines(source, plan.start(), plan.end(), plan.foldBefore(), out[0]);
      hook.reached(Step.JOURNAL_FILTERED);
      long copied = plan.end();
      for (int round = 0; round < CATCH_UP_ROUNDS; round++) {
        long end = committedEnd();
        if (end - copied < CATCH_UP_BYTES) {
          break;
        }
        transfer(source, copied, end, out[0]);
        copied = end;
      }
      out[0].force(true); // the bulk, off the lock; the lock then waits only for the last few lines
      long[] swapped = swap(plan, totalsTmp, journalTmp, source, out, copied, header.length, kept);
      long totalsBytes = Files.size(totalsPath);
      Compacted done = new Compacted(
          next,
          plan.foldBefore(),
          kept.folded,
          kept.kept,
          rows.size(),
          swapped[0],
          swapped[1],
          totalsBytes,
          (System.nanoTime() - started) / 1_000_000,
          (plan.nanos() + swapped[2]) / 1_000_000);
      log.info(
          "compacted the spend ledger in {} (generation {}): folded {} records of days before {} into the totals"
              + " ({} rows, {} records, {} bytes); journal {} -> {} bytes, {} records kept; {} ms, writers waited {} ms",
          dir,
          next,
          done.foldedRecords(),
          done.foldedBefore(),
          done.totalsRows(),
          totals.records(),
          totalsBytes,
          done.journalBytesBefore(),
          done.journalBytesAfter(),
          done.keptRecords(),
          done.millis(),
          done.blockedMillis());
      return done;
    } finally {
      closeQuietly(source);
      closeQuietly(out[0]); // null once it became the journal
      deleteQuietly(totalsTmp); // gone once renamed
      deleteQuietly(journalTmp);
    }
  }

  /** Between batches, so the journal up to its end and the totals in memory hold the same records. */
  private synchronized Plan plan() {
    long started = System.nanoTime();
    checkWritable();
    LocalDate foldBefore = foldBoundary();
    List<SpendRow> rows = book.rowsBefore(foldBefore);
    return new Plan(
        generation,
        foldBefore,
        journalStart,
        journalBytes,
        rows,
        new TreeMap<>(bytesByDay),
        System.nanoTime() - started);
  }

  /**
   * The brief part under the lock: copies the lines appended since {@code copied}, forces the new
   * journal, renames the totals then the journal into place, and switches to the new journal.
   * Returns the journal's bytes before and after, and the nanoseconds writers waited.
   */
  private synchronized long[] swap(
      Plan plan,
      Path totalsTmp,
      Path journalTmp,
      FileChannel source,
      FileChannel[] out,
      long copied,
      int headerLength,
      Filtered kept)
      throws IOException {
    long blockedFrom = System.nanoTime();
    checkWritable();
    long before = journalBytes;
    FileChannel fresh = out[0];
    transfer(source, copied, before, fresh);
    fresh.force(true);
    hook.reached(Step.JOURNAL_WRITTEN);
    DataDirectory.moveAtomically(totalsTmp, totalsPath);
    // From here on the new totals may be on disk: next to the old journal they are a valid state
    // (the next open finishes the compaction), but this ledger must not go on writing as if nothing
    // happened if the rest fails.
    try {
      data.syncRenames();
      hook.reached(Step.TOTALS_RENAMED);
      DataDirectory.moveAtomically(journalTmp, journalPath);
      closeQuietly(journal);
      journal = fresh;
      out[0] = null;
      data.syncRenames();
    } catch (IOException | RuntimeException e) {
      failure = new SpendLedgerException(
          "compacting the spend ledger in " + dir + " failed after " + totalsPath
              + " was replaced (" + e
              + "); refusing writes until a restart, which finishes the compaction",
          e);
      throw e;
    }
    generation = plan.generation() + 1;
    foldedBefore = plan.foldBefore();
    journalStart = headerLength;
    journalBytes = fresh.position();
    // Days of the lines appended since the plan, added to those of the kept lines.
    NavigableMap<LocalDate, Long> days = kept.bytesByDay;
    bytesByDay.forEach((day, bytes) -> {
      long appended = bytes - plan.bytesByDay().getOrDefault(day, 0L);
      if (appended > 0) {
        days.merge(day, appended, Long::sum);
      }
    });
    bytesByDay = days;
    retryAtBytes = 0;
    compactionDue = worthCompacting();
    hook.reached(Step.JOURNAL_RENAMED);
    return new long[] {before, journalBytes, System.nanoTime() - blockedFrom};
  }

  private synchronized long committedEnd() {
    return journalBytes;
  }

  /** The first day whose records stay records: before the id window and the margin, and never earlier than before. */
  private LocalDate foldBoundary() {
    LocalDate boundary =
        book.today().minusDays((long) book.dedupWindowDays() + compaction.marginDays());
    return foldedBefore != null && foldedBefore.isAfter(boundary) ? foldedBefore : boundary;
  }

  /** Guarded by this. */
  private boolean worthCompacting() {
    if (journalBytes < retryAtBytes) {
      return false;
    }
    long foldable = 0;
    for (long bytes : bytesByDay.headMap(foldBoundary(), false).values()) {
      foldable += bytes;
    }
    return foldable >= compaction.minFoldBytes()
        && foldable * FOLD_SHARE_DIVISOR >= journalBytes - journalStart;
  }

  private void scheduleCompaction() {
    if (!compactionQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      compactor.execute(() -> {
        try {
          compactOrLog();
        } finally {
          compactionQueued.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      compactionQueued.set(false); // closing
    }
  }

  private void compactOrLog() {
    try {
      compact();
    } catch (IOException | RuntimeException e) {
      if (closed) {
        log.debug(
            "a compaction of the spend ledger in {} stopped because the ledger closed", dir, e);
        return;
      }
      long retryAt;
      synchronized (this) {
        retryAt = journalBytes
            + Math.max(
                compaction.minFoldBytes(), (journalBytes - journalStart) / FOLD_SHARE_DIVISOR);
        retryAtBytes = retryAt;
        compactionDue = false;
      }
      log.warn(
          "compacting the spend ledger in {} failed; the journal keeps everything and grows, and compaction is"
              + " tried again once it reaches {} bytes: {}",
          dir,
          retryAt,
          e.toString());
    }
  }

  /**
   * Copies the batch lines of {@code [from, to)} of {@code source} to {@code out} (at its position),
   * without the records of days before {@code keepFrom}: a line keeping all its records is copied as
   * it is, one keeping some is written anew with just those, one keeping none is left out.
   */
  private Filtered filterLines(
      FileChannel source, long from, long to, LocalDate keepFrom, FileChannel out)
      throws IOException {
    Filtered f = new Filtered();
    long keepFromDay = keepFrom.toEpochDay();
    OutputStream sink = new BufferedOutputStream(
        Channels.newOutputStream(out), 1024 * 1024); // not closed: that would close out
    LineReader lines = new LineReader(LineReader.region(source, from, to), from);
    while (lines.next()) {
      if (closed) {
        throw new SpendLedgerException(
            "the spend ledger in " + dir + " was closed during a compaction");
      }
      if (!lines.intact()) {
        throw new IOException(journalPath + ": the line at offset " + lines.start
            + " is no longer intact (it was when"
            + " it was written or replayed); the disk may be failing. Compaction stopped; the next start will refuse"
            + " the journal if it stays damaged");
      }
      long[] times = JournalCodec.recordTimes(lines.buf, lines.length);
      int staying = 0;
      for (long at : times) {
        if (epochDay(at) >= keepFromDay) {
          staying++;
        }
      }
      f.folded += times.length - staying;
      f.kept += staying;
      if (staying == 0) {
        continue;
      }
      if (staying == times.length) {
        sink.write(lines.buf, 0, lines.length);
        sink.write('\n');
        addBytes(f.bytesByDay, times, lines.end - lines.start);
        continue;
      }
      JournalCodec.Batch batch = JournalCodec.parse(lines.buf, lines.length);
      List<Spend> keep = keptFrom(batch.records(), keepFrom);
      byte[] line = JournalCodec.line(batch.receivedAtMillis(), batch.source(), keep);
      sink.write(line);
      addBytes(f.bytesByDay, keep.stream().mapToLong(Spend::atEpochMillis).toArray(), line.length);
    }
    sink.flush();
    return f;
  }

  private static List<Spend> keptFrom(List<Spend> records, LocalDate keepFrom) {
    List<Spend> keep = null;
    for (int i = 0; i < records.size(); i++) {
      boolean stays = !records.get(i).day().isBefore(keepFrom);
      if (!stays && keep == null) {
        keep = new ArrayList<>(records.subList(0, i));
      } else if (stays && keep != null) {
        keep.add(records.get(i));
      }
    }
    return keep == null ? records : keep;
  }

  /** Shares a line's {@code length} among the days of its records. */
  private static void addBytes(Map<LocalDate, Long> bytesByDay, List<Spend> records, long length) {
    addBytes(bytesByDay, records.stream().mapToLong(Spend::atEpochMillis).toArray(), length);
  }

  /** Shares a line's {@code length} among the UTC days of its records' times. */
  private static void addBytes(Map<LocalDate, Long> bytesByDay, long[] times, long length) {
    if (times.length == 0) {
      return;
    }
    long each = length / times.length;
    long rest = length - each * times.length;
    long day = Long.MIN_VALUE;
    long bytes = 0;
    for (long at : times) {
      long d = epochDay(at);
      if (d != day && bytes > 0) {
        bytesByDay.merge(LocalDate.ofEpochDay(day), bytes, Long::sum);
        bytes = 0;
      }
      day = d;
      bytes += each + rest;
      rest = 0;
    }
    bytesByDay.merge(LocalDate.ofEpochDay(day), bytes, Long::sum);
  }

  /** The UTC day of an instant, as {@link Spend#day()} files it. */
  private static long epochDay(long epochMillis) {
    return Math.floorDiv(epochMillis, 86_400_000L);
  }

  /** Copies {@code [from, to)} of {@code source} to {@code out} at its position. */
  private void transfer(FileChannel source, long from, long to, FileChannel out)
      throws IOException {
    long pos = from;
    while (pos < to) {
      long n = source.transferTo(pos, to - pos, out);
      if (n <= 0) {
        throw new IOException(
            journalPath + " ended at offset " + pos + " while copying it up to offset " + to);
      }
      pos += n;
    }
  }

  private void writeTotals(Path tmp, TotalsFile.Snapshot totals) throws IOException {
    try (FileChannel out = openTmp(tmp)) {
      OutputStream sink = new BufferedOutputStream(Channels.newOutputStream(out), 1024 * 1024);
      TotalsFile.write(sink, totals, clock.millis());
      sink.flush();
      out.force(true);
    }
  }

  private FileChannel openTmp(Path tmp) throws IOException {
    return FileChannel.open(
        tmp,
        Set.of(
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE),
        ownerOnly(dir, false));
  }

  /** Guarded by this. */
  private void checkWritable() {
    if (closed) {
      throw new SpendLedgerException(
          "the spend ledger in " + dir + " is closed (expected: records before close())");
    }
    if (failure != null) {
      throw new SpendLedgerException(
          "the spend ledger in " + dir + " refuses writes after an earlier I/O failure "
              + "(expected: restart the control plane to reopen it): " + failure.getMessage(),
          failure);
    }
  }

  private synchronized void append(List<Spend> fresh, String source) {
    checkWritable();
    ByteBuffer line = ByteBuffer.wrap(JournalCodec.line(clock.millis(), source, fresh));
    int length = line.remaining();
    try {
      writeFully(journal, line, journalBytes);
      journal.force(true);
    } catch (ClosedByInterruptException e) {
      throw afterInterrupt(fresh.size(), e);
    } catch (IOException e) {
      failure = new SpendLedgerException(
          "writing a batch of " + fresh.size() + " records to " + journalPath + " at offset "
              + journalBytes + " failed; it may or may not be there after a restart: " + e,
          e);
      truncateQuietly();
      throw failure;
    }
    journalBytes += length;
    batches++;
    addBytes(bytesByDay, fresh, length);
    compactionDue = worthCompacting();
  }

  /** Runs before the ledger is shared, on the opening thread only. */
  private void recover() {
    data.probeDirectorySync();
    deleteLeftover(dir.resolve(TOTALS_FILE + TMP_SUFFIX));
    deleteLeftover(dir.resolve(JOURNAL_FILE + TMP_SUFFIX));
    long started = System.nanoTime();
    TotalsFile.Snapshot totals = Files.exists(totalsPath) ? TotalsFile.read(totalsPath) : null;
    if (totals != null) {
      book.restore(totals.rows());
      generation = totals.generation();
      foldedBefore = totals.foldedBefore();
    }
    String folded = totals == null
        ? "no totals file"
        : "totals of " + totals.records() + " records of days before " + totals.foldedBefore()
            + " (" + totals.rows().size() + " rows, generation " + generation + ")";
    if (!Files.exists(journalPath)) {
      if (totals != null) {
        throw new SpendLedgerException(
            journalPath + ": missing, next to " + totalsPath + " (expected: a journal of"
                + " generation " + generation
                + "; compaction replaces it by renaming, it never deletes it). Restore it from"
                + " a backup: starting without it would lose the spend of the recent days.");
      }
      createJournal();
      log.info("opened the spend ledger in {}: new journal", dir);
      return;
    }
    long size;
    long validEnd;
    boolean wholeLineCut = false;
    long records = 0;
    long foldEnd = -1;
    try (InputStream in = Files.newInputStream(journalPath)) {
      size = Files.size(journalPath);
      LineReader lines = new LineReader(in, 0);
      long journalGeneration = readHeader(lines);
      if (journalGeneration != generation) {
        if (totals == null || journalGeneration != generation - 1) {
          throw new SpendLedgerException(journalPath + ": generation " + journalGeneration
              + ", next to "
              + (totals == null ? "no totals file" : totalsPath + " of generation " + generation)
              + " (expected: "
              + (totals == null
                  ? "generation 0, or a totals file of generation " + (journalGeneration + 1)
                      + "; was it lost?"
                  : "generation " + generation + ", or " + (generation - 1)
                      + " after a compaction that stopped between" + " its renames")
              + "). The files do not belong together; refusing to start rather than count spend"
              + " twice or not at all. Restore the directory from a backup.");
        }
        // A compaction stopped between renaming the totals and the journal: this journal's lines
        // before
        // foldEnd are folded up to foldedBefore already.
        foldEnd = totals.journalOffset();
        if (foldEnd < journalStart) {
          throw new SpendLedgerException(
              totalsPath + ": says the journal was folded up to offset " + foldEnd
                  + ", but " + journalPath + " has its first batch at offset " + journalStart
                  + " (expected: an offset"
                  + " between batches). The files do not belong together; refusing to start. Restore the directory"
                  + " from a backup.");
        }
      }
      validEnd = lines.end;
      long firstBad = -1;
      while (lines.next()) {
        if (!lines.intact()) {
          if (firstBad < 0) {
            firstBad = lines.start;
          }
          wholeLineCut |= lines.newline;
          continue;
        }
        if (firstBad >= 0) {
          throw new SpendLedgerException(journalPath + ": damaged line at offset " + firstBad
              + ", followed by a valid line at offset " + lines.start
              + " (expected: damage only in the last,"
              + " unacknowledged line). This is not a torn write; refusing to start rather than drop acknowledged"
              + " spend. Restore the directory from a backup, or remove the damaged line (bytes "
              + firstBad + ".."
              + (lines.start - 1) + ") by hand, losing the spend it held.");
        }
        JournalCodec.Batch batch;
        try {
          batch = JournalCodec.parse(lines.buf, lines.length);
        } catch (IllegalArgumentException e) {
          throw new SpendLedgerException(
              journalPath + ": the line at offset " + lines.start + " has a valid checksum"
                  + " but does not hold a batch (" + e.getMessage()
                  + "). This is not a torn write; refusing to start"
                  + " rather than guess. Restore the directory from a backup.",
              e);
        }
        List<Spend> replayed = batch.records();
        if (lines.start < foldEnd) {
          if (lines.end > foldEnd) {
            throw new SpendLedgerException(
                journalPath + ": the line at offset " + lines.start + " runs past offset "
                    + foldEnd + ", where " + totalsPath
                    + " says the folded part ends (expected: a line boundary). The"
                    + " files do not belong together; refusing to start. Restore the directory from a backup.");
          }
          replayed = keptFrom(
              replayed, requireNonNull(foldedBefore, "read with the totals foldEnd comes from"));
        }
        book.replay(replayed);
        addBytes(bytesByDay, replayed, lines.end - lines.start);
        records += replayed.size();
        batches++;
        validEnd = lines.end;
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot read " + journalPath + ": " + e, e);
    }
    if (validEnd < foldEnd) {
      throw new SpendLedgerException(
          journalPath + ": " + validEnd + " bytes of valid lines, but " + totalsPath
              + " says it was folded up to offset " + foldEnd
              + " (expected: at least that many; acknowledged lines are"
              + " never cut off). Refusing to start rather than lose spend. Restore the directory from a backup.");
    }
    try {
      journal = FileChannel.open(journalPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      if (validEnd < size) {
        if (wholeLineCut) {
          // A whole line that fails its checksum is damage, or a crash that left other bytes in
          // the file's new space. Either way it may have been acknowledged: keep its bytes.
          Path kept = keepCutBytes(validEnd, size);
          log.error(
              "{}: the last {} bytes from offset {} hold a whole line that fails its checksum. If"
                  + " it was acknowledged spend damaged on disk, its records are not counted now;"
                  + " its bytes are kept in {} for inspection. Cut off from the journal.",
              journalPath,
              size - validEnd,
              validEnd,
              kept);
        } else {
          // Only the last batch can be torn, and it was never acknowledged: it is dropped.
          log.warn(
              "{}: cut off {} bytes of an incomplete last line at offset {}; it was never"
                  + " acknowledged",
              journalPath,
              size - validEnd,
              validEnd);
        }
        journal.truncate(validEnd);
        journal.force(true);
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot open " + journalPath + " for writing: " + e, e);
    }
    journalBytes = validEnd;
    if (foldEnd >= 0) {
      finishCompaction(foldEnd);
    }
    compactionDue = worthCompacting();
    log.info(
        "opened the spend ledger in {}: {}; journal: {} batches, {} records, {} bytes replayed in {} ms; {} daily"
            + " totals, {} record ids remembered for duplicate detection ({} days)",
        dir,
        folded,
        batches,
        records,
        validEnd,
        (System.nanoTime() - started) / 1_000_000,
        book.aggregates(),
        book.rememberedIds(),
        book.dedupWindowDays());
  }

  /**
   * Copies the journal's bytes {@code [from, to)} to {@code <journal>.cut-<epoch millis>}, beside
   * it, before they are cut off, and returns that file.
   */
  private Path keepCutBytes(long from, long to) throws IOException {
    Path kept = journalPath.resolveSibling(journalPath.getFileName() + ".cut-" + clock.millis());
    try (FileChannel out =
        FileChannel.open(kept, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      journal.transferTo(from, to - from, out);
      out.force(true);
    }
    return kept;
  }

  /**
   * Reads the journal's header: the format line and, from format 2 on, the generation line. Sets
   * {@link #journalStart} and returns the generation.
   */
  private long readHeader(LineReader lines) throws IOException {
    boolean first = lines.next() && lines.newline;
    if (first && is(lines, JournalCodec.HEADER_V1_BYTES)) {
      journalStart = lines.end;
      return 0;
    }
    if (!first || !is(lines, JournalCodec.HEADER_BYTES)) {
      throw new SpendLedgerException(
          journalPath + ": does not start with the line '" + JournalCodec.HEADER.strip()
              + "' (expected: a spend journal of this format, or of format 1; it is created complete, so this is damage"
              + " or a newer format)");
    }
    String problem;
    if (!lines.next() || !lines.intact()) {
      problem = "is incomplete or fails its checksum";
    } else {
      try {
        long journalGeneration = JournalCodec.generation(lines.buf, lines.length);
        journalStart = lines.end;
        return journalGeneration;
      } catch (IllegalArgumentException e) {
        problem = "is not valid (" + e.getMessage() + ")";
      }
    }
    throw new SpendLedgerException(
        journalPath + ": the generation line at offset " + lines.start + " " + problem
            + " (expected: {\"generation\": n}; a journal is created complete, so this is damage). Refusing to start."
            + " Restore the directory from a backup.");
  }

  private static boolean is(LineReader lines, byte[] headerLine) {
    int length = headerLine.length - 1;
    return lines.length == length && Arrays.equals(lines.buf, 0, length, headerLine, 0, length);
  }

  /**
   * Finishes a compaction that stopped between its renames: the totals are new, the journal is the
   * one it was folded from. Its lines before {@code foldEnd} lose the records the totals hold
   * already; the lines after it are copied as they are.
   */
  private void finishCompaction(long foldEnd) {
    Path tmp = dir.resolve(JOURNAL_FILE + TMP_SUFFIX);
    FileChannel out = null;
    try (FileChannel source = FileChannel.open(journalPath, StandardOpenOption.READ)) {
      out = openTmp(tmp);
      byte[] header = JournalCodec.header(generation);
      writeFully(out, ByteBuffer.wrap(header), 0);
      out.position(header.length);
      Filtered kept = filterLines(
          source,
          journalStart,
          foldEnd,
          requireNonNull(foldedBefore, "read with the totals foldEnd comes from"),
          out);
      transfer(source, foldEnd, journalBytes, out);
      out.force(true);
      DataDirectory.moveAtomically(tmp, journalPath);
      closeQuietly(journal);
      journal = out;
      out = null;
      log.info(
          "{}: finished a compaction that stopped between renaming {} and the journal: {} records before offset"
              + " {} were in the totals already; journal {} -> {} bytes",
          journalPath,
          totalsPath,
          kept.folded,
          foldEnd,
          journalBytes,
          journal.position());
      journalStart = header.length;
      journalBytes = journal.position();
      data.syncRenames();
    } catch (IOException e) {
      throw new SpendLedgerException(
          "cannot finish the compaction that stopped between renaming " + totalsPath + " and "
              + journalPath + ": " + e,
          e);
    } finally {
      closeQuietly(out);
      deleteQuietly(tmp);
    }
  }

  /** A journal holding only its header, complete and forced before it gets its name. */
  private void createJournal() {
    Path tmp = dir.resolve(JOURNAL_FILE + TMP_SUFFIX);
    byte[] header = JournalCodec.header(generation);
    try {
      try (FileChannel out = openTmp(tmp)) {
        writeFully(out, ByteBuffer.wrap(header), 0);
        out.force(true);
      }
      DataDirectory.moveAtomically(tmp, journalPath);
      data.syncRenames();
      journal = FileChannel.open(journalPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      journalStart = header.length;
      journalBytes = header.length;
    } catch (IOException e) {
      throw new SpendLedgerException(
          "cannot create the spend journal " + journalPath + ": " + e, e);
    }
  }

  /**
   * The writing thread was interrupted, which closes a {@link FileChannel} but is no I/O error: cut
   * off whatever part of the line got written and carry on with a new channel.
   */
  private SpendLedgerException afterInterrupt(int records, ClosedByInterruptException cause) {
    try {
      journal = DataDirectory.reopenTruncated(journalPath, journalBytes);
      return new SpendLedgerException(
          "the thread writing a batch of " + records + " records to " + journalPath
              + " was interrupted; the batch was not stored",
          cause);
    } catch (IOException e) {
      failure = new SpendLedgerException(
          "the thread writing a batch of " + records + " records to " + journalPath
              + " was interrupted, and reopening the journal failed (" + e
              + "); the batch may or may not be there"
              + " after a restart",
          cause);
      return failure;
    }
  }

  private void truncateQuietly() {
    try {
      journal.truncate(journalBytes);
    } catch (IOException e) {
      log.debug(
          "cutting {} back to {} bytes after a failed write failed too; reopening will",
          journalPath,
          journalBytes,
          e);
    }
  }

  private void deleteLeftover(Path tmp) {
    try {
      if (Files.deleteIfExists(tmp)) {
        log.info("deleted {}, left by a compaction or journal creation that did not finish", tmp);
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot delete the leftover " + tmp + ": " + e, e);
    }
  }

  private static void deleteQuietly(Path tmp) {
    try {
      Files.deleteIfExists(tmp);
    } catch (IOException e) {
      log.debug("cannot delete {}; the next open deletes it", tmp, e);
    }
  }
}
