package dev.llmgw.controlplane.spend;

import org.jspecify.annotations.Nullable;

/**
 * The ledger could not read or write its files, found them damaged, or is closed. A batch whose
 * {@link SpendLedger#record} threw this may or may not be stored; sending it again is safe.
 */
public final class SpendLedgerException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public SpendLedgerException(String message) {
    super(message);
  }

  public SpendLedgerException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
