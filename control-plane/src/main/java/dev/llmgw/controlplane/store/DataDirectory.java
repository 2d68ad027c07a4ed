package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory one component owns while it runs: created owner-only when missing, refused to a second
 * opener in this process (closing any channel to the lock file would drop the lock), and locked
 * against other processes by a file lock whose file names the holder's pid. The config store and the
 * spend ledger each own one; the static helpers are the file chores both journals need.
 */
public final class DataDirectory implements AutoCloseable {

  /** Why a directory could not be taken; owners rethrow the message as their own exception. */
  public static final class UnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    UnavailableException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }

    /** Never null: every one is made with a message. */
    @Override
    public String getMessage() {
      return requireNonNull(super.getMessage(), "message");
    }
  }

  public static final String LOCK_FILE = "lock";

  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
  private static final Set<Path> OPEN_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final Path key;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private boolean closed;
  /** Whether this platform can fsync a directory; probed once, on the first {@link #probeDirectorySync}. */
  private volatile boolean directorySync = true;

  private DataDirectory(Path dir, Path key, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.key = key;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Takes {@code dir} for this process.
   *
   * @param owner how messages name what lives there, e.g. "the store"
   * @param opener the class that opens it, for the message about a second opener in this process
   * @param busyHint what to do when another process holds it, e.g. "one control plane per store directory"
   * @throws UnavailableException if it cannot be created or locked, or is held here or elsewhere
   */
  public static DataDirectory take(Path dir, String owner, String opener, String busyHint)
      throws UnavailableException {
    requireNonNull(dir, "dir");
    Path key;
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, ownerOnly(dir, true));
      }
      key = dir.toRealPath();
    } catch (IOException e) {
      throw new UnavailableException("cannot create " + owner + " directory " + dir + ": " + e, e);
    }
    if (!OPEN_IN_THIS_PROCESS.add(key)) {
      throw new UnavailableException(
          owner + " in " + dir + " is already open in this process (expected: one " + opener
              + " per directory; close the other one first)",
          null);
    }
    Path lockPath = dir.resolve(LOCK_FILE);
    FileChannel channel = null;
    try {
      channel = FileChannel.open(
          lockPath,
          Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
          ownerOnly(dir, false));
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        throw new UnavailableException(
            owner + " in " + dir + " is already open in this process (expected: one " + opener
                + " per directory; close the other one first)",
            e);
      } catch (IOException e) {
        throw new UnavailableException("cannot lock " + lockPath + ": " + e, e);
      }
      if (lock == null) {
        throw new UnavailableException(
            owner + " in " + dir + " is in use by another process" + holder(lockPath)
                + " (expected: " + busyHint + ")",
            null);
      }
      recordHolder(channel, lockPath);
      return new DataDirectory(dir, key, channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      OPEN_IN_THIS_PROCESS.remove(key);
      throw new UnavailableException("cannot open the lock file " + lockPath + ": " + e, e);
    } catch (UnavailableException e) {
      closeQuietly(channel);
      OPEN_IN_THIS_PROCESS.remove(key);
      throw e;
    }
  }

  public Path path() {
    return dir;
  }

  /** Releases the directory; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
    } catch (IOException e) {
      log.debug("releasing the lock on {} failed; closing the file releases it", dir, e);
    }
    closeQuietly(lockChannel);
    OPEN_IN_THIS_PROCESS.remove(key);
  }

  @Override
  public String toString() {
    return "DataDirectory[" + dir + "]";
  }

  /** Writes all of {@code buffer} at {@code position}; returns the bytes written. */
  public static int writeFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    int written = 0;
    while (buffer.hasRemaining()) {
      written += channel.write(buffer, position + written);
    }
    return written;
  }

  /** Owner-only permissions where the file system has them: journals name tenants and hold credentials. */
  public static FileAttribute<?>[] ownerOnly(Path path, boolean directory) {
    if (!path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[0];
    }
    return new FileAttribute<?>[] {
      PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString(directory ? "rwx------" : "rw-------"))
    };
  }

  public static void closeQuietly(@Nullable AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      log.debug("closing {} failed", closeable, e);
    }
  }

  /**
   * Renames {@code from} to {@code to} in one step, replacing {@code to}: a crash leaves one or the
   * other, never a mix. Fails on a file system that cannot (network file systems are not supported).
   */
  public static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "the file system of " + to.getParent() + " cannot rename atomically "
              + "(expected: a local POSIX file system)",
          e);
    }
  }

  /**
   * Finds out once whether this directory can be fsync'd (some platforms cannot open a directory);
   * where it cannot, {@link #syncRenames} does nothing from then on and the renames rely on the file
   * system's ordering. Call it on open, before the first rename that needs ordering.
   */
  public void probeDirectorySync() {
    try {
      forceDirectory(dir);
    } catch (IOException e) {
      directorySync = false;
      log.info(
          "cannot fsync the directory {} on this platform ({}); renames rely on the file system's ordering",
          dir,
          e.toString());
    }
  }

  /**
   * Makes the renames in this directory durable, so that a file renamed after them cannot reach the
   * disk before them; nothing where {@link #probeDirectorySync} found that the platform cannot. Where
   * it can, a failure is an I/O error for the caller.
   */
  public void syncRenames() throws IOException {
    if (directorySync) {
      forceDirectory(dir);
    }
  }

  /**
   * Makes the renames in {@code dir} durable (fsync of the directory), so that a file renamed after
   * it cannot reach the disk before one renamed before it. An interrupt, which closes the channel
   * but is no I/O error, is retried once without the flag; the flag is restored afterwards. Some
   * platforms cannot open a directory at all; callers find that out once and decide.
   */
  private static void forceDirectory(Path dir) throws IOException {
    boolean interrupted = false;
    try {
      while (true) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
          d.force(true);
          return;
        } catch (ClosedByInterruptException e) {
          if (interrupted) {
            throw e;
          }
          interrupted = Thread.interrupted();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A new channel to {@code file}, cut back to {@code length} and forced, after an interrupt closed
   * the old one (which is no I/O error). The thread's interrupt status is kept.
   */
  public static FileChannel reopenTruncated(Path file, long length) throws IOException {
    boolean interrupted = Thread.interrupted(); // Channel operations fail at once while it is set.
    try {
      FileChannel reopened =
          FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      try {
        reopened.truncate(length);
        reopened.force(true);
      } catch (IOException e) {
        closeQuietly(reopened);
        throw e;
      }
      return reopened;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void recordHolder(FileChannel channel, Path lockPath) {
    try {
      channel.truncate(0);
      writeFully(
          channel,
          ByteBuffer.wrap(
              ("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)),
          0);
    } catch (IOException e) {
      log.debug("cannot record this process in {}; the lock still holds", lockPath, e);
    }
  }

  private static String holder(Path lockPath) {
    try {
      String content = Files.readString(lockPath, StandardCharsets.UTF_8).strip();
      return content.isEmpty() ? "" : " (" + content + ")";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
