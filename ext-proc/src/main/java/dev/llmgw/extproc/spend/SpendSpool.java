package dev.llmgw.extproc.spend;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmgw.proto.spend.v1.SpendRecord;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ext-proc's local spool of spend records the control plane has not acknowledged yet: one file of
 * CRC-framed protobuf records, appended and forced per batch, and a small file saying how far the
 * control plane has acknowledged. Only the thread of {@link SpendReporter} uses it.
 *
 * <p>{@code spend-spool.pb} is {@code "LGSP" u32:format u64:generation} then frames of {@code
 * [u32 length][u32 crc32][SpendRecord]}, big-endian. {@code spend-spool.acked} is the text {@code
 * "<generation> <offset>\n"}: the records before {@code offset} in the spool of that generation are
 * acknowledged. It is written without fsync, because every way it can be lost or stale (an older
 * offset, another generation, garbage) only makes the next start send records again, which the
 * ledger counts once. The acknowledged prefix is dropped by writing the unacknowledged rest to a
 * new spool of the next generation (temporary file, fsync, atomic rename, directory fsync).
 */
final class SpendSpool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SpendSpool.class);
  private static final Set<Path> OPEN_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();

  static final String SPOOL_FILE = "spend-spool.pb";
  static final String ACKED_FILE = "spend-spool.acked";
  static final String LOCK_FILE = "spend-spool.lock";
  static final String TMP_SUFFIX = ".tmp";
  static final int MAGIC =
      ByteBuffer.wrap("LGSP".getBytes(StandardCharsets.US_ASCII)).getInt();
  static final int FORMAT = 1;
  static final int HEADER_BYTES = 16;
  static final int FRAME_HEADER_BYTES = 8;
  /** Largest record accepted; a record is a few hundred bytes, so more can only be damage. */
  static final int MAX_RECORD_BYTES = 1024 * 1024;
  /** Longest tail a crash can tear: one append (at most {@link SpendReporter#SPOOL_WRITE_RECORDS} records). */
  static final long MAX_TORN_BYTES = 16L * 1024 * 1024;

  /** Records read for shipping, and the offset just after the last of them. */
  record Chunk(List<SpendRecord> records, long end) {}

  private final Path dir;
  private final Path key;
  private final Path spoolPath;
  private final Path ackedPath;
  private final long maxBytes;
  private final long compactBytes;
  private final FileChannel lockChannel;
  private final FileLock lock;

  @SuppressWarnings(
      "NullAway.Init") // set by recover(), which open() calls right after the constructor
  private FileChannel spool;

  private long generation;
  private long size;
  private long acked;
  private long pending;
  private boolean closed;

  private SpendSpool(
      Path dir,
      Path key,
      long maxBytes,
      long compactBytes,
      FileChannel lockChannel,
      FileLock lock) {
    this.dir = dir;
    this.key = key;
    this.spoolPath = dir.resolve(SPOOL_FILE);
    this.ackedPath = dir.resolve(ACKED_FILE);
    this.maxBytes = maxBytes;
    this.compactBytes = compactBytes;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (creating if needed) the spool in {@code dir}: takes its lock, cuts off a torn tail and
   * finds where the acknowledged part ends.
   *
   * @param maxBytes the spool refuses appends beyond this size
   * @param compactBytes the acknowledged prefix is dropped once it is this large and at least as
   *     large as the rest
   * @throws IOException if the directory cannot be used, or another process or reporter holds it
   */
  static SpendSpool open(Path dir, long maxBytes, long compactBytes) throws IOException {
    requireNonNull(dir, "dir");
    Files.createDirectories(dir, ownerOnly(dir, true));
    Path key = dir.toRealPath();
    if (!OPEN_IN_THIS_PROCESS.add(key)) {
      throw new IOException(
          "the spend spool in " + dir + " is already open in this process (expected: one "
              + "SpendReporter per spool directory)");
    }
    FileChannel lockChannel = null;
    SpendSpool spool = null;
    try {
      Path lockPath = dir.resolve(LOCK_FILE);
      lockChannel = FileChannel.open(
          lockPath,
          Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
          ownerOnly(lockPath, false));
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IOException("the spend spool in " + dir
            + " is in use by another process (expected: one ext-proc per"
            + " spool directory; give each instance its own)");
      }
      spool = new SpendSpool(dir, key, maxBytes, compactBytes, lockChannel, lock);
      spool.recover();
      return spool;
    } catch (IOException | RuntimeException e) {
      if (spool != null) {
        spool.close();
      } else {
        closeQuietly(lockChannel);
        OPEN_IN_THIS_PROCESS.remove(key);
      }
      throw e;
    }
  }

  /** Records in the spool the control plane has not acknowledged. */
  long pending() {
    return pending;
  }

  long size() {
    return size;
  }

  /** Offset just after the last acknowledged record. */
  long acked() {
    return acked;
  }

  /**
   * Appends as many of {@code records} as fit under the size limit, in order, and forces them to
   * disk. Returns how many were appended; the rest did not fit.
   */
  int append(List<SpendRecord> records) throws IOException {
    List<byte[]> frames = new ArrayList<>(records.size());
    long bytes = 0;
    for (SpendRecord r : records) {
      byte[] payload = r.toByteArray();
      if (size + bytes + FRAME_HEADER_BYTES + payload.length > maxBytes) {
        break;
      }
      frames.add(payload);
      bytes += FRAME_HEADER_BYTES + payload.length;
    }
    if (frames.isEmpty()) {
      return 0;
    }
    ByteBuffer out = ByteBuffer.allocate((int) bytes);
    for (byte[] payload : frames) {
      out.putInt(payload.length).putInt(crc(payload, 0, payload.length)).put(payload);
    }
    out.flip();
    try {
      writeFully(spool, out, size);
      spool.force(false);
    } catch (IOException e) {
      try {
        spool.truncate(size);
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
    size += bytes;
    pending += frames.size();
    return frames.size();
  }

  /** Up to {@code max} records from the first one not acknowledged. */
  Chunk read(int max) throws IOException {
    List<SpendRecord> records =
        new ArrayList<>(Math.min(max, (int) Math.min(pending, Integer.MAX_VALUE)));
    long pos = acked;
    ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER_BYTES);
    while (records.size() < max && pos < size) {
      header.clear();
      readFully(spool, header, pos);
      int length = header.getInt(0);
      ByteBuffer payload = ByteBuffer.allocate(length);
      readFully(spool, payload, pos + FRAME_HEADER_BYTES);
      records.add(SpendRecord.parseFrom(payload.array()));
      pos += FRAME_HEADER_BYTES + length;
    }
    return new Chunk(List.copyOf(records), pos);
  }

  /**
   * The control plane acknowledged every record before {@code end} (an end {@link #read} gave).
   * Records the new offset; drops the acknowledged prefix when it has grown large. A failure to
   * record the offset is logged, not thrown: the records are acknowledged, and at worst a restart
   * sends them again.
   */
  void ack(long end, int records) {
    if (end < acked || end > size) {
      throw new IllegalArgumentException(
          "end: " + end + " (expected: " + acked + ".." + size + ")");
    }
    acked = end;
    pending -= records;
    if (acked - HEADER_BYTES >= compactBytes && size - acked <= acked - HEADER_BYTES) {
      try {
        compact();
        return;
      } catch (IOException e) {
        log.warn(
            "dropping the acknowledged part of {} failed ({}); it keeps growing until the next try",
            spoolPath,
            e.toString());
      }
    }
    writeAckedQuietly();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(spool);
    try {
      lock.release();
    } catch (IOException e) {
      log.debug("releasing the lock on {} failed; closing the file releases it", dir, e);
    }
    closeQuietly(lockChannel);
    OPEN_IN_THIS_PROCESS.remove(key);
  }

  /** Starts a spool of the next generation holding only the records not yet acknowledged. */
  private void compact() throws IOException {
    long rest = size - acked;
    Path tmp = dir.resolve(SPOOL_FILE + TMP_SUFFIX);
    FileChannel fresh = createTruncated(tmp);
    try {
      writeFully(fresh, header(generation + 1), 0);
      long copied = 0;
      while (copied < rest) {
        copied +=
            spool.transferTo(acked + copied, rest - copied, fresh.position(HEADER_BYTES + copied));
      }
      fresh.force(true);
      move(tmp, spoolPath);
    } catch (IOException | RuntimeException e) {
      closeQuietly(fresh);
      Files.deleteIfExists(tmp);
      throw e;
    }
    // From here on the new file is the spool. Its name must be durable before anything is appended
    // to it.
    closeQuietly(spool);
    spool = fresh;
    generation++;
    size = HEADER_BYTES + rest;
    acked = HEADER_BYTES;
    forceDirectory();
    writeAckedQuietly();
    log.debug(
        "dropped the acknowledged part of {}: generation {}, {} bytes left",
        spoolPath,
        generation,
        rest);
  }

  private void recover() throws IOException {
    Files.deleteIfExists(dir.resolve(SPOOL_FILE + TMP_SUFFIX));
    Files.deleteIfExists(dir.resolve(ACKED_FILE + TMP_SUFFIX));
    if (!Files.exists(spoolPath)) {
      createSpool();
      return;
    }
    spool = FileChannel.open(spoolPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    size = spool.size();
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    if (size < HEADER_BYTES
        || readFully(spool, header, 0) < HEADER_BYTES
        || header.getInt(0) != MAGIC
        || header.getInt(4) != FORMAT) {
      closeQuietly(spool);
      Path aside = dir.resolve(SPOOL_FILE + ".damaged-" + System.currentTimeMillis());
      Files.move(spoolPath, aside);
      log.error(
          "{} is not a spend spool of format {}; moved it to {} and started a new one. The records in it are not"
              + " sent to the control plane.",
          spoolPath,
          FORMAT,
          aside);
      createSpool();
      return;
    }
    generation = header.getLong(8);
    long claimed = claimedAcked();
    boolean claimedIsBoundary = claimed == HEADER_BYTES;
    long frames = 0;
    long framesAfterClaimed = 0;
    long pos = HEADER_BYTES;
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(
        Channels.newInputStream(spool.position(HEADER_BYTES)), 64 * 1024))) {
      while (pos < size) {
        int length = validFrame(in, size - pos);
        if (length < 0) {
          break;
        }
        pos += FRAME_HEADER_BYTES + length;
        frames++;
        if (pos > claimed) {
          framesAfterClaimed++;
        }
        claimedIsBoundary |= pos == claimed;
      }
    }
    // Closing the stream closed the channel.
    spool = FileChannel.open(spoolPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
    if (pos < size) {
      cutTail(pos);
    }
    if (claimedIsBoundary && claimed <= pos) {
      acked = claimed;
      pending = framesAfterClaimed;
    } else {
      log.info(
          "{} does not describe this spool (generation {}); sending all {} spooled records again (the ledger counts"
              + " each once)",
          ackedPath,
          generation,
          frames);
      acked = HEADER_BYTES;
      pending = frames;
      writeAckedQuietly();
    }
    log.info(
        "opened the spend spool {}: {} records not yet acknowledged by the control plane",
        spoolPath,
        pending);
  }

  /**
   * Cuts the spool at {@code pos}, the first invalid frame. A crash can only tear the last append,
   * which is at most {@link #MAX_TORN_BYTES}; a valid frame after the cut, or a longer tail, is
   * damage: the whole file is copied aside first, for an operator to look at.
   */
  private void cutTail(long pos) throws IOException {
    long tail = size - pos;
    boolean torn = false;
    if (tail <= MAX_TORN_BYTES) {
      ByteBuffer rest = ByteBuffer.allocate((int) tail);
      readFully(spool, rest, pos);
      torn = nextValidFrame(rest.array(), 1) < 0;
    }
    if (torn) {
      log.warn(
          "{}: cut off {} bytes of an incomplete last batch at offset {}", spoolPath, tail, pos);
    } else {
      Path aside = dir.resolve(SPOOL_FILE + ".damaged-" + System.currentTimeMillis());
      Files.copy(spoolPath, aside);
      log.error(
          "{}: damaged record at offset {} followed by {} more bytes; kept the records before it and copied the"
              + " whole file to {}. The records after the damage are not sent to the control plane.",
          spoolPath,
          pos,
          tail,
          aside);
    }
    spool.truncate(pos);
    spool.force(true);
    size = pos;
  }

  /** The offset the acked file claims for this generation, or -1. */
  private long claimedAcked() {
    try {
      if (!Files.exists(ackedPath)) {
        return -1;
      }
      String[] parts =
          Files.readString(ackedPath, StandardCharsets.US_ASCII).strip().split(" ");
      if (parts.length == 2 && Long.parseLong(parts[0]) == generation) {
        return Long.parseLong(parts[1]);
      }
    } catch (IOException | NumberFormatException e) {
      log.debug("cannot read {}", ackedPath, e);
    }
    return -1;
  }

  /**
   * A new, empty spool. Its generation is random, so that no acked file left from an earlier spool
   * in the directory can be taken to describe it.
   */
  private void createSpool() throws IOException {
    long gen = new SecureRandom().nextLong() & Long.MAX_VALUE;
    Path tmp = dir.resolve(SPOOL_FILE + TMP_SUFFIX);
    FileChannel fresh = createTruncated(tmp);
    try {
      writeFully(fresh, header(gen), 0);
      fresh.force(true);
      move(tmp, spoolPath);
    } catch (IOException | RuntimeException e) {
      closeQuietly(fresh);
      throw e;
    }
    spool = fresh;
    generation = gen;
    size = HEADER_BYTES;
    acked = HEADER_BYTES;
    pending = 0;
    forceDirectory();
    writeAckedQuietly();
  }

  private void writeAckedQuietly() {
    Path tmp = dir.resolve(ACKED_FILE + TMP_SUFFIX);
    try {
      try (FileChannel out = createTruncated(tmp)) {
        writeFully(
            out,
            ByteBuffer.wrap((generation + " " + acked + "\n").getBytes(StandardCharsets.US_ASCII)),
            0);
      }
      move(tmp, ackedPath);
    } catch (IOException e) {
      log.warn(
          "cannot record the acknowledged offset in {} ({}); a restart sends those records again",
          ackedPath,
          e.toString());
    }
  }

  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      log.debug("cannot fsync the directory {} on this platform", dir, e);
    }
  }

  private static ByteBuffer header(long generation) {
    return ByteBuffer.allocate(HEADER_BYTES)
        .putInt(MAGIC)
        .putInt(FORMAT)
        .putLong(generation)
        .flip();
  }

  /** Reads one frame from {@code in}; its payload length if it is valid, else -1. */
  private static int validFrame(DataInputStream in, long remaining) throws IOException {
    if (remaining < FRAME_HEADER_BYTES) {
      return -1;
    }
    int length = in.readInt();
    int crc = in.readInt();
    if (length < 1 || length > MAX_RECORD_BYTES || length > remaining - FRAME_HEADER_BYTES) {
      return -1;
    }
    byte[] payload = new byte[length];
    in.readFully(payload);
    return valid(payload, 0, length, crc) ? length : -1;
  }

  /** The payload length of a valid frame at {@code pos} of {@code data}, or -1. */
  private static int validFrame(byte[] data, int pos) {
    if (data.length - pos < FRAME_HEADER_BYTES) {
      return -1;
    }
    ByteBuffer in = ByteBuffer.wrap(data);
    int length = in.getInt(pos);
    if (length < 1
        || length > MAX_RECORD_BYTES
        || length > data.length - pos - FRAME_HEADER_BYTES) {
      return -1;
    }
    return valid(data, pos + FRAME_HEADER_BYTES, length, in.getInt(pos + 4)) ? length : -1;
  }

  private static boolean valid(byte[] data, int offset, int length, int expectedCrc) {
    if (crc(data, offset, length) != expectedCrc) {
      return false;
    }
    try {
      SpendRecord.parseFrom(ByteBuffer.wrap(data, offset, length));
      return true;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  private static int nextValidFrame(byte[] data, int from) {
    for (int pos = from; pos <= data.length - FRAME_HEADER_BYTES - 1; pos++) {
      if (validFrame(data, pos) >= 0) {
        return pos;
      }
    }
    return -1;
  }

  private static int crc(byte[] data, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(data, offset, length);
    return (int) crc.getValue();
  }

  /** Opens {@code file} for reading and writing, empty, created owner-only when it is new. */
  private static FileChannel createTruncated(Path file) throws IOException {
    return FileChannel.open(
        file,
        Set.of(
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE),
        ownerOnly(file, false));
  }

  /**
   * Owner-only permissions (0600, 0700 for the directory) where the file system has POSIX ones: the
   * records name tenants, API key fingerprints and what they spent.
   */
  private static FileAttribute<?>[] ownerOnly(Path path, boolean directory) {
    if (!path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[0];
    }
    return new FileAttribute<?>[] {
      PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString(directory ? "rwx------" : "rw-------"))
    };
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "the file system of " + to.getParent() + " cannot rename atomically (expected: a local"
              + " POSIX file system)",
          e);
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    long written = 0;
    while (buffer.hasRemaining()) {
      written += channel.write(buffer, position + written);
    }
  }

  private static int readFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    int read = 0;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position + read);
      if (n < 0) {
        break;
      }
      read += n;
    }
    return read;
  }

  private static void closeQuietly(@Nullable AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      log.debug("closing {} failed", closeable, e);
    }
  }
}
