package dev.llmgw.controlplane.store;

import org.jspecify.annotations.Nullable;

/**
 * The store could not read or write its files: an I/O error, a damaged file, or a directory held
 * by another control plane. The message names the file (and offset, for damage) and what to do.
 */
public final class StoreException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
