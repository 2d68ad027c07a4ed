package dev.llmgw.controlplane.store;

import static dev.llmgw.controlplane.store.DataDirectory.closeQuietly;
import static dev.llmgw.controlplane.store.DataDirectory.ownerOnly;
import static dev.llmgw.controlplane.store.DataDirectory.writeFully;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default store: one directory holding a snapshot and an append-only journal, so that
 * a crash at any point, including mid-write and mid-compaction, leaves every acknowledged change
 * readable. Each commit is one CRC-checked journal record, forced to disk before {@link #apply}
 * returns; a record torn by a crash can only be the last one, which nobody was told about, and is
 * cut off on the next open. A record that is all there but fails its checksum was not torn but
 * changed: the open refuses and leaves it for the operator. A {@link HighWaterMark} remembers the
 * highest version acknowledged, so versions never go back, even after the operator cut records out.
 * When the journal grows past {@link Compaction}, the state is written as a new snapshot (temporary
 * file, fsync, atomic rename, directory fsync) and the journal starts over. A lock file keeps a
 * second control plane out of the directory. Everything is also kept in memory, so reads never
 * touch the disk. Format and guarantees: {@code docs/store.md}.
 */
public final class FileConfigStore implements ConfigStore {

  private static final Logger log = LoggerFactory.getLogger(FileConfigStore.class);

  /**
   * Directories open in this process. Checked before touching the lock file, because closing any
   * channel to a file drops every POSIX lock this process holds on it.
   */
  static final String LOCK_FILE = DataDirectory.LOCK_FILE;

  static final String SNAPSHOT_FILE = "snapshot";
  static final String JOURNAL_FILE = "journal";
  static final String TMP_SUFFIX = ".tmp";

  /**
   * When to fold the journal into a new snapshot: after {@code maxRecords} records or {@code
   * maxBytes} of journal, whichever comes first. Replay time on open grows with the journal.
   */
  public record Compaction(int maxRecords, long maxBytes) {

    /** 1000 records or 4 MiB. */
    public static final Compaction DEFAULT = new Compaction(1000, 4L * 1024 * 1024);

    public Compaction {
      if (maxRecords <= 0) {
        throw new IllegalArgumentException("maxRecords: " + maxRecords + " (expected: > 0)");
      }
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
      }
    }
  }

  private final DataDirectory data;
  private final Path dir;
  private final Path journalPath;
  private final Compaction compaction;

  @SuppressWarnings(
      "NullAway.Init") // set by recover(), which open() calls right after the constructor
  private volatile StoreState state;
  // Guarded by this.
  @SuppressWarnings("NullAway.Init") // set by recover(), as state is
  private FileChannel journal;

  private long journalBytes;
  private int journalRecords;

  @SuppressWarnings("NullAway.Init") // set by recover(), as state is
  private HighWaterMark highWater;

  private @Nullable StoreException failure;
  private boolean closed;

  private FileConfigStore(DataDirectory data, Compaction compaction) {
    this.data = data;
    this.dir = data.path();
    this.journalPath = dir.resolve(JOURNAL_FILE);
    this.compaction = compaction;
  }

  /** Opens (creating if needed) the store in {@code dir}, with the default compaction thresholds. */
  public static FileConfigStore open(Path dir) {
    return open(dir, Compaction.DEFAULT);
  }

  /**
   * Opens (creating if needed) the store in {@code dir}: takes the directory's lock, reads the
   * snapshot, replays the journal and cuts off a torn last record (one a crash left incomplete and
   * nobody was told about).
   *
   * @throws StoreException if another process holds the directory, a file is damaged (a journal
   *     record that is complete but fails its checksum, a torn last record of a version that was
   *     acknowledged, or damage before the last record), or the directory cannot be read or written
   */
  public static FileConfigStore open(Path dir, Compaction compaction) {
    requireNonNull(dir, "dir");
    requireNonNull(compaction, "compaction");
    DataDirectory data;
    try {
      data = DataDirectory.take(
          dir,
          "the store",
          "FileConfigStore",
          "one control plane per store directory; stop the "
              + "other one, or give this one its own --data-dir, or use an external store for several replicas");
    } catch (DataDirectory.UnavailableException e) {
      throw new StoreException(e.getMessage(), e.getCause());
    }
    FileConfigStore store = null;
    try {
      store = new FileConfigStore(data, compaction);
      store.recover();
      return store;
    } catch (RuntimeException e) {
      if (store != null) {
        store.close();
      } else {
        data.close();
      }
      throw e;
    }
  }

  @Override
  public StoreState state() {
    return state;
  }

  @Override
  public synchronized StoreState applyAll(List<Change> changes) throws ConflictException {
    if (closed) {
      throw new IllegalStateException(
          "the store in " + dir + " is closed (expected: writes before close())");
    }
    if (failure != null) {
      throw new StoreException(
          "the store in " + dir + " refuses writes after an earlier I/O failure "
              + "(expected: restart the control plane to reopen it): " + failure.getMessage(),
          failure);
    }
    StoreState next = Transitions.next(state, changes);
    if (next == state) {
      return next;
    }
    ByteBuffer record = RecordFile.frame(StoreCodec.entry(next.version(), changes));
    int length = record.remaining();
    try {
      writeFully(journal, record, journalBytes);
      journal.force(true);
    } catch (ClosedByInterruptException e) {
      throw afterInterrupt(next.version(), e);
    } catch (IOException e) {
      failure = new StoreException(
          "writing version " + next.version() + " to " + journalPath + " at offset " + journalBytes
              + " failed; it may or may not be there after a restart: " + e,
          e);
      truncateQuietly();
      throw failure;
    }
    journalBytes += length;
    journalRecords++;
    try {
      highWater.raise(next.version());
    } catch (IOException e) {
      failure = new StoreException(
          "version " + next.version() + " is in " + journalPath + ", but recording it in "
              + highWater.file() + " failed (" + e + "); it will be there after a restart, and"
              + " the store refuses writes until then",
          e);
      throw failure;
    }
    state = next;
    if (journalRecords >= compaction.maxRecords() || journalBytes >= compaction.maxBytes()) {
      compactQuietly();
    }
    return next;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(journal);
    closeQuietly(highWater);
    data.close();
  }

  @Override
  public String toString() {
    return "FileConfigStore[" + dir + "]";
  }

  /**
   * Folds the journal into a new snapshot now. Any crash inside leaves either the old snapshot with
   * the whole journal, or the new snapshot with a journal whose records it already covers (skipped
   * on replay), or the new snapshot with an empty journal.
   */
  synchronized void compact() throws IOException {
    if (closed) {
      throw new IllegalStateException("the store in " + dir + " is closed");
    }
    StoreState snapshot = state;
    ByteBuffer header = RecordFile.header(RecordFile.SNAPSHOT_MAGIC);
    ByteBuffer body = RecordFile.frame(StoreCodec.snapshot(snapshot));
    // An interrupt would close the channels mid-way; the caller's commit is already durable, so the
    // compaction runs without the flag and hands it back afterwards.
    boolean interrupted = Thread.interrupted();
    try {
      writeAtomically(dir.resolve(SNAPSHOT_FILE), header, body);
      startNewJournal();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    log.debug(
        "compacted {} into a snapshot at version {} ({} documents)",
        dir,
        snapshot.version(),
        snapshot.size());
  }

  private void compactQuietly() {
    try {
      compact();
    } catch (IOException | RuntimeException e) {
      // The change is already durable in the journal; a failed compaction only leaves it longer.
      log.warn(
          "compacting the store in {} failed; the journal keeps growing and compaction is retried "
              + "after the next write: {}",
          dir,
          e.toString());
    }
  }

  private void recover() {
    data.probeDirectorySync();
    deleteLeftover(dir.resolve(SNAPSHOT_FILE + TMP_SUFFIX));
    deleteLeftover(dir.resolve(JOURNAL_FILE + TMP_SUFFIX));
    deleteLeftover(dir.resolve(HighWaterMark.FILE + TMP_SUFFIX));
    StoreState recovered = readSnapshot();
    long snapshotVersion = recovered.version();
    highWater = HighWaterMark.open(data);
    if (!Files.exists(journalPath)) {
      state = recovered;
      startNewJournalOrFail();
      keepVersionsAboveTheHighWaterMark();
      log.info(
          "opened the store in {}: version {}, {} documents, new journal",
          dir,
          state.version(),
          state.size());
      return;
    }
    byte[] data = readAll(journalPath);
    RecordFile.Scan scan = RecordFile.scan(journalPath, RecordFile.JOURNAL_MAGIC, data);
    long previous = -1;
    int replayed = 0;
    for (RecordFile.Frame frame : scan.frames()) {
      StoreCodec.Entry entry = decode(frame);
      if (previous >= 0 && entry.version() != previous + 1) {
        throw damaged(
            frame,
            "holds version " + entry.version() + " after version " + previous + " (expected: "
                + (previous + 1) + "; records are missing or out of order)");
      }
      previous = entry.version();
      if (entry.version() <= snapshotVersion) {
        continue; // Already in the snapshot: compaction stopped before it started a new journal.
      }
      if (entry.version() != recovered.version() + 1) {
        throw damaged(
            frame,
            "holds version " + entry.version() + " but the snapshot ends at version "
                + recovered.version() + " (expected: " + (recovered.version() + 1)
                + "; records are missing)");
      }
      try {
        recovered = Transitions.next(recovered, entry.changes());
      } catch (ConflictException | IllegalArgumentException e) {
        throw damaged(frame, "does not apply to the state before it (" + e.getMessage() + ")");
      }
      replayed++;
    }
    if (scan.end() == RecordFile.End.DAMAGED) {
      throw damagedLastRecord(data, scan, recovered.version());
    }
    if (scan.tornTail() && highWater.value() > recovered.version()) {
      throw acknowledgedButTorn(scan, recovered.version());
    }
    state = recovered;
    try {
      journal = FileChannel.open(journalPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      if (scan.tornTail()) {
        // Only the last commit can be torn, and it was never acknowledged: it is dropped.
        log.warn(
            "{}: cut off {} bytes of an incomplete last record at offset {}; it was never acknowledged",
            journalPath,
            scan.size() - scan.validEnd(),
            scan.validEnd());
        journal.truncate(scan.validEnd());
        journal.force(true);
      }
    } catch (IOException e) {
      throw new StoreException("cannot open " + journalPath + " for writing: " + e, e);
    }
    journalBytes = scan.validEnd();
    journalRecords = scan.frames().size();
    if (previous >= 0 && previous != state.version()) {
      // Every record is older than the snapshot; appending would leave a gap, so start afresh.
      startNewJournalOrFail();
    }
    keepVersionsAboveTheHighWaterMark();
    log.info(
        "opened the store in {}: version {}, {} documents (snapshot at version {}, {} journal records replayed)",
        dir,
        state.version(),
        state.size(),
        snapshotVersion,
        replayed);
  }

  private StoreState readSnapshot() {
    Path path = dir.resolve(SNAPSHOT_FILE);
    if (!Files.exists(path)) {
      return StoreState.EMPTY;
    }
    RecordFile.Scan scan = RecordFile.scan(path, RecordFile.SNAPSHOT_MAGIC, readAll(path));
    if (scan.frames().size() != 1 || scan.end() != RecordFile.End.CLEAN) {
      throw new StoreException(
          path + ": damaged at offset " + scan.validEnd() + " (expected: exactly one valid record;"
              + " snapshots are written to a temporary file and renamed, so this is not a torn write). Restore the"
              + " directory from a backup.");
    }
    try {
      return StoreCodec.snapshot(scan.frames().get(0).payload());
    } catch (RuntimeException e) {
      throw new StoreException(
          path + ": the record at offset " + RecordFile.HEADER_BYTES + " is not a valid snapshot: "
              + e.getMessage(),
          e);
    }
  }

  private StoreCodec.Entry decode(RecordFile.Frame frame) {
    try {
      return StoreCodec.entry(frame.payload());
    } catch (RuntimeException e) {
      throw damaged(frame, "is not a valid journal entry (" + e.getMessage() + ")");
    }
  }

  /**
   * The journal's last record is all there but fails its checksum: it was written whole (and may
   * have been acknowledged) and changed since, so it is not cut off. Its version stays reserved, so
   * that whatever the operator does next, it is not handed out again.
   */
  private StoreException damagedLastRecord(byte[] bytes, RecordFile.Scan scan, long before) {
    long offset = scan.validEnd();
    StoreException refusal = new StoreException(journalPath + ": the record at offset " + offset
        + " is complete (its length field says " + RecordFile.lengthAt(bytes, offset)
        + " bytes, and they are all there) but fails its CRC32 check or holds no JSON object. A"
        + " crash only cuts a record short, so this one was written whole and changed since; it may"
        + " hold an acknowledged change (version " + (before + 1)
        + "). Refusing to start rather than"
        + " drop it; the file was not changed. Restore the directory from a backup (keeping the"
        + " current " + HighWaterMark.FILE + " file), or drop the record and everything after it"
        + " with 'truncate -s " + offset + " " + journalPath
        + "', losing its change (apply it again"
        + " afterwards); versions continue above " + (before + 1) + " either way.");
    try {
      highWater.raise(before + 1);
    } catch (IOException e) {
      refusal.addSuppressed(e);
    }
    return refusal;
  }

  /**
   * The journal ends in a torn record, but the high-water mark says a version beyond the last
   * valid record was acknowledged: the journal lost records it had made durable, which a crash does
   * not do.
   */
  private StoreException acknowledgedButTorn(RecordFile.Scan scan, long lastVersion) {
    long offset = scan.validEnd();
    return new StoreException(journalPath + ": ends in an incomplete record at offset " + offset
        + ", after version " + lastVersion + ", but " + highWater.file() + " says version "
        + highWater.value() + " was acknowledged. A crash cuts off only a commit nobody was told"
        + " about, so the journal was cut or overwritten: this is damage, not a torn write."
        + " Refusing to start rather than drop acknowledged changes; the file was not changed."
        + " Restore the directory from a backup (keeping the current " + HighWaterMark.FILE
        + " file), or accept losing versions " + (lastVersion + 1) + ".." + highWater.value()
        + " with 'truncate -s " + offset + " " + journalPath + "'; versions continue above "
        + highWater.value() + " either way.");
  }

  /**
   * Squares the recovered version with the high-water mark. Above it: a commit was made durable but
   * a crash came before its mark (it was never acknowledged, and is kept), or the store predates
   * the mark; the mark moves up. Below it: acknowledged commits are missing from the files, most
   * likely cut out by an operator recovering from damage; the store moves its version up to the
   * mark (a new snapshot, same documents), so that their versions are never handed out again.
   */
  private void keepVersionsAboveTheHighWaterMark() {
    long version = state.version();
    long mark = highWater.value();
    try {
      if (version > mark) {
        highWater.raise(version);
      } else if (version < mark) {
        log.warn(
            "{}: versions {}..{} were acknowledged but are not in the snapshot or the journal (cut"
                + " off to recover from damage, or lost); continuing at version {} so that none of"
                + " them is reused",
            dir,
            version + 1,
            mark,
            mark + 1);
        state = new StoreState(mark, state.byKind());
        compact();
      }
    } catch (IOException e) {
      throw new StoreException(
          "cannot bring the store in " + dir + " in line with " + highWater.file() + " (version "
              + version + ", mark " + mark + "): " + e,
          e);
    }
  }

  private StoreException damaged(RecordFile.Frame frame, String problem) {
    return new StoreException(
        journalPath + ": the record at offset " + frame.offset() + " " + problem
            + ". Its checksum is valid, so this is not a torn write; refusing to start rather than guess."
            + " Restore the directory from a backup.");
  }

  private void startNewJournalOrFail() {
    try {
      startNewJournal();
    } catch (IOException e) {
      throw new StoreException("cannot create a new journal " + journalPath + ": " + e, e);
    }
  }

  /**
   * Replaces the journal with an empty one. The new file is complete and forced before the rename,
   * and the channel is opened before it, so a failure leaves the old journal in use.
   */
  private void startNewJournal() throws IOException {
    Path tmp = dir.resolve(JOURNAL_FILE + TMP_SUFFIX);
    FileChannel fresh = FileChannel.open(
        tmp,
        Set.of(
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE),
        ownerOnly(dir, false));
    try {
      writeFully(fresh, RecordFile.header(RecordFile.JOURNAL_MAGIC), 0);
      fresh.force(true);
      DataDirectory.moveAtomically(tmp, journalPath);
    } catch (IOException | RuntimeException e) {
      closeQuietly(fresh);
      Files.deleteIfExists(tmp);
      throw e;
    }
    // From here on the new file is the journal, whatever happens next.
    closeQuietly(journal);
    journal = fresh;
    journalBytes = RecordFile.HEADER_BYTES;
    journalRecords = 0;
    try {
      data.syncRenames();
    } catch (IOException e) {
      // A record appended now could be lost with the rename; a restart reads whichever journal is
      // there.
      failure = new StoreException(
          "cannot make the new journal " + journalPath + " durable (fsync of " + dir + " failed: "
              + e + "); refusing writes until a restart",
          e);
      throw e;
    }
  }

  private void writeAtomically(Path target, ByteBuffer... buffers) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + TMP_SUFFIX);
    try (FileChannel out = FileChannel.open(
        tmp,
        Set.of(
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE),
        ownerOnly(dir, false))) {
      long position = 0;
      for (ByteBuffer b : buffers) {
        position += writeFully(out, b, position);
      }
      out.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    try {
      DataDirectory.moveAtomically(tmp, target);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    data.syncRenames();
  }

  /**
   * The writing thread was interrupted, which closes a {@link FileChannel} but is no I/O error: cut
   * off whatever part of the record got written and carry on with a new channel. Only if that fails
   * does the store refuse further writes.
   */
  private StoreException afterInterrupt(long version, ClosedByInterruptException cause) {
    try {
      journal = DataDirectory.reopenTruncated(journalPath, journalBytes);
      return new StoreException(
          "the thread writing version " + version + " to " + journalPath
              + " was interrupted; the change was not stored",
          cause);
    } catch (IOException e) {
      failure = new StoreException(
          "the thread writing version " + version + " to " + journalPath
              + " was interrupted, and reopening the journal failed (" + e
              + "); the change may or may not be"
              + " there after a restart",
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
        log.info("deleted {}, left by a compaction that did not finish", tmp);
      }
    } catch (IOException e) {
      throw new StoreException("cannot delete the leftover " + tmp + ": " + e, e);
    }
  }

  private static byte[] readAll(Path path) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new StoreException("cannot read " + path + ": " + e, e);
    }
  }
}
