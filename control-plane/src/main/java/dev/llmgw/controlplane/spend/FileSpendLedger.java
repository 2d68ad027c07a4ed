package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.store.DataDirectory.closeQuietly;
import static dev.llmgw.controlplane.store.DataDirectory.ownerOnly;
import static dev.llmgw.controlplane.store.DataDirectory.writeFully;
import static java.util.Objects.requireNonNull;

import dev.llmgw.controlplane.store.DataDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded ledger: an append-only journal in one directory, one line per stored batch, forced
 * to disk before {@link #record} returns, so a crash at any point loses nothing that was
 * acknowledged. A line torn by a crash can only be the last one, which nobody was told about; it is
 * cut off on the next open. On open the whole journal is replayed into the daily totals kept in
 * memory, so queries never touch the disk. A lock file keeps a second process out of the
 * directory. The journal is never compacted: it grows with every record (see {@code
 * docs/ledger.md}, "Growth").
 */
public final class FileSpendLedger implements SpendLedger {

  private static final Logger log = LoggerFactory.getLogger(FileSpendLedger.class);

  static final String LOCK_FILE = DataDirectory.LOCK_FILE;
  static final String JOURNAL_FILE = "journal";
  static final String TMP_SUFFIX = ".tmp";
  /** Longest line read back; longer ones can only be damage (a batch holds at most 10000 records). */
  static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

  private final DataDirectory data;
  private final Path dir;
  private final Path journalPath;
  private final Clock clock;
  private final SpendBook book;

  // Guarded by this.
  private FileChannel journal;
  private long journalBytes;
  private long batches;
  private SpendLedgerException failure;
  private boolean closed;

  private FileSpendLedger(DataDirectory data, Clock clock, int dedupWindowDays) {
    this.data = data;
    this.dir = data.path();
    this.journalPath = dir.resolve(JOURNAL_FILE);
    this.clock = clock;
    this.book = new SpendBook(clock, dedupWindowDays);
  }

  /** Opens (creating if needed) the ledger in {@code dir}, remembering ids for {@value #DEFAULT_DEDUP_WINDOW_DAYS} days. */
  public static FileSpendLedger open(Path dir, Clock clock) {
    return open(dir, clock, DEFAULT_DEDUP_WINDOW_DAYS);
  }

  /**
   * Opens (creating if needed) the ledger in {@code dir}: takes the directory's lock, replays the
   * journal and cuts off a torn last line.
   *
   * @throws SpendLedgerException if another process holds the directory, the journal is damaged
   *     anywhere but in its last line, or the directory cannot be read or written
   */
  public static FileSpendLedger open(Path dir, Clock clock, int dedupWindowDays) {
    requireNonNull(dir, "dir");
    requireNonNull(clock, "clock");
    DataDirectory data;
    try {
      data = DataDirectory.take(dir, "the spend ledger", "FileSpendLedger", "one control plane per data directory; "
          + "stop the other one, or give this one its own --data-dir");
    } catch (DataDirectory.UnavailableException e) {
      throw new SpendLedgerException(e.getMessage(), e.getCause());
    }
    FileSpendLedger ledger = null;
    try {
      ledger = new FileSpendLedger(data, clock, dedupWindowDays);
      ledger.recover();
      return ledger;
    } catch (RuntimeException e) {
      if (ledger != null) {
        ledger.close();
      } else {
        data.close();
      }
      throw e;
    }
  }

  @Override
  public Recorded record(List<Spend> records, String source) {
    requireNonNull(source, "source");
    return book.record(records, fresh -> append(fresh, source));
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

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(journal);
    data.close();
  }

  @Override
  public String toString() {
    return "FileSpendLedger[" + dir + "]";
  }

  private synchronized void append(List<Spend> fresh, String source) {
    if (closed) {
      throw new SpendLedgerException("the spend ledger in " + dir + " is closed (expected: records before close())");
    }
    if (failure != null) {
      throw new SpendLedgerException("the spend ledger in " + dir + " refuses writes after an earlier I/O failure "
          + "(expected: restart the control plane to reopen it): " + failure.getMessage(), failure);
    }
    ByteBuffer line = ByteBuffer.wrap(JournalCodec.line(clock.millis(), source, fresh));
    int length = line.remaining();
    try {
      writeFully(journal, line, journalBytes);
      journal.force(true);
    } catch (ClosedByInterruptException e) {
      throw afterInterrupt(fresh.size(), e);
    } catch (IOException e) {
      failure = new SpendLedgerException("writing a batch of " + fresh.size() + " records to " + journalPath
          + " at offset " + journalBytes + " failed; it may or may not be there after a restart: " + e, e);
      truncateQuietly();
      throw failure;
    }
    journalBytes += length;
    batches++;
  }

  private void recover() {
    deleteLeftover(dir.resolve(JOURNAL_FILE + TMP_SUFFIX));
    if (!Files.exists(journalPath)) {
      createJournal();
      log.info("opened the spend ledger in {}: new journal", dir);
      return;
    }
    long size;
    long validEnd;
    long records = 0;
    long started = System.nanoTime();
    try (InputStream in = Files.newInputStream(journalPath)) {
      size = Files.size(journalPath);
      Lines lines = new Lines(in);
      int headerLength = JournalCodec.HEADER_BYTES.length - 1;
      if (!lines.next() || !lines.newline || lines.length != headerLength
          || !Arrays.equals(lines.buf, 0, headerLength, JournalCodec.HEADER_BYTES, 0, headerLength)) {
        throw new SpendLedgerException(journalPath + ": does not start with the line '" + JournalCodec.HEADER.strip()
            + "' (expected: a spend journal of this format; it is created complete, so this is damage or a newer format)");
      }
      validEnd = lines.end;
      long firstBad = -1;
      while (lines.next()) {
        boolean intact = lines.newline && !lines.tooLong && JournalCodec.intact(lines.buf, lines.length);
        if (!intact) {
          if (firstBad < 0) {
            firstBad = lines.start;
          }
          continue;
        }
        if (firstBad >= 0) {
          throw new SpendLedgerException(journalPath + ": damaged line at offset " + firstBad
              + ", followed by a valid line at offset " + lines.start + " (expected: damage only in the last,"
              + " unacknowledged line). This is not a torn write; refusing to start rather than drop acknowledged"
              + " spend. Restore the directory from a backup, or remove the damaged line (bytes " + firstBad + ".."
              + (lines.start - 1) + ") by hand, losing the spend it held.");
        }
        JournalCodec.Batch batch;
        try {
          batch = JournalCodec.parse(lines.buf, lines.length);
        } catch (IllegalArgumentException e) {
          throw new SpendLedgerException(journalPath + ": the line at offset " + lines.start + " has a valid checksum"
              + " but does not hold a batch (" + e.getMessage() + "). This is not a torn write; refusing to start"
              + " rather than guess. Restore the directory from a backup.", e);
        }
        book.replay(batch.records());
        records += batch.records().size();
        batches++;
        validEnd = lines.end;
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot read " + journalPath + ": " + e, e);
    }
    try {
      journal = FileChannel.open(journalPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      if (validEnd < size) {
        // Only the last batch can be torn, and it was never acknowledged: it is dropped.
        log.warn("{}: cut off {} bytes of an incomplete last line at offset {}; it was never acknowledged",
            journalPath, size - validEnd, validEnd);
        journal.truncate(validEnd);
        journal.force(true);
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot open " + journalPath + " for writing: " + e, e);
    }
    journalBytes = validEnd;
    log.info("opened the spend ledger in {}: {} batches, {} records, {} bytes replayed in {} ms; {} daily totals,"
        + " {} record ids remembered for duplicate detection ({} days)", dir, batches, records, validEnd,
        (System.nanoTime() - started) / 1_000_000, book.aggregates(), book.rememberedIds(), book.dedupWindowDays());
  }

  /** A journal holding only its header, complete and forced before it gets its name. */
  private void createJournal() {
    Path tmp = dir.resolve(JOURNAL_FILE + TMP_SUFFIX);
    try {
      try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE), ownerOnly(dir, false))) {
        writeFully(out, ByteBuffer.wrap(JournalCodec.HEADER_BYTES), 0);
        out.force(true);
      }
      try {
        Files.move(tmp, journalPath, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + dir + " cannot rename atomically (expected: a local POSIX file system)", e);
      }
      forceDirectory();
      journal = FileChannel.open(journalPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
      journalBytes = JournalCodec.HEADER_BYTES.length;
    } catch (IOException e) {
      throw new SpendLedgerException("cannot create the spend journal " + journalPath + ": " + e, e);
    }
  }

  /** Makes the journal's name durable; some platforms cannot open a directory, which is tolerated. */
  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      log.debug("cannot fsync the directory {} on this platform; relying on the file system's ordering", dir, e);
    }
  }

  /**
   * The writing thread was interrupted, which closes a {@link FileChannel} but is no I/O error: cut
   * off whatever part of the line got written and carry on with a new channel.
   */
  private SpendLedgerException afterInterrupt(int records, ClosedByInterruptException cause) {
    try {
      journal = DataDirectory.reopenTruncated(journalPath, journalBytes);
      return new SpendLedgerException("the thread writing a batch of " + records + " records to " + journalPath
          + " was interrupted; the batch was not stored", cause);
    } catch (IOException e) {
      failure = new SpendLedgerException("the thread writing a batch of " + records + " records to " + journalPath
          + " was interrupted, and reopening the journal failed (" + e + "); the batch may or may not be there"
          + " after a restart", cause);
      return failure;
    }
  }


  private void truncateQuietly() {
    try {
      journal.truncate(journalBytes);
    } catch (IOException e) {
      log.debug("cutting {} back to {} bytes after a failed write failed too; reopening will", journalPath,
          journalBytes, e);
    }
  }

  private void deleteLeftover(Path tmp) {
    try {
      if (Files.deleteIfExists(tmp)) {
        log.info("deleted {}, left by a journal creation that did not finish", tmp);
      }
    } catch (IOException e) {
      throw new SpendLedgerException("cannot delete the leftover " + tmp + ": " + e, e);
    }
  }

  /**
   * The journal's lines with their byte offsets, read in chunks. A line longer than {@link
   * #MAX_LINE_BYTES} is skipped over and marked {@link #tooLong}.
   */
  private static final class Lines {
    private final InputStream in;
    private final byte[] chunk = new byte[64 * 1024];
    private int chunkPos;
    private int chunkLen;
    private long position;

    byte[] buf = new byte[8192];
    /** Bytes of the current line in {@link #buf}, without the newline. */
    int length;
    long start;
    /** Offset just after the current line (and its newline). */
    long end;
    boolean newline;
    boolean tooLong;

    Lines(InputStream in) {
      this.in = in;
    }

    /** Reads the next line, complete or not; false at the end of the file. */
    boolean next() throws IOException {
      start = position;
      length = 0;
      newline = false;
      tooLong = false;
      while (true) {
        if (chunkPos == chunkLen) {
          chunkLen = in.read(chunk);
          chunkPos = 0;
          if (chunkLen <= 0) {
            chunkLen = 0;
            end = position;
            return position > start;
          }
        }
        byte b = chunk[chunkPos++];
        position++;
        if (b == '\n') {
          newline = true;
          end = position;
          return true;
        }
        if (length == buf.length) {
          if (buf.length >= MAX_LINE_BYTES) {
            tooLong = true;
            continue;
          }
          buf = Arrays.copyOf(buf, Math.min(MAX_LINE_BYTES, buf.length * 2));
        }
        buf[length++] = b;
      }
    }
  }
}
