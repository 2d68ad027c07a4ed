package dev.llmgw.controlplane.store;

import java.util.List;

/**
 * Durable home of the configuration documents. Every commit is atomic, moves {@link
 * StoreState#version()} up by exactly one, and is durable before the call returns, so whatever a
 * caller has acknowledged to an operator survives a crash. Reads never block on writes.
 */
public interface ConfigStore extends AutoCloseable {

  /** The state after the last commit; an immutable value, cheap to call. */
  StoreState state();

  /**
   * Applies one change atomically and returns only once it is durable (fsync'd). The written
   * document's revision equals the returned state's version.
   *
   * @throws ConflictException if the change's expected revision does not hold, or it deletes a
   *     document that does not exist; nothing is written
   * @throws StoreException if the change could not be made durable; it may or may not be present
   *     after a restart
   */
  default StoreState apply(Change change) throws ConflictException {
    return applyAll(List.of(java.util.Objects.requireNonNull(change, "change")));
  }

  /**
   * Applies several changes as one commit: all or none, one version step, same durability as
   * {@link #apply}. Each document may appear at most once; an empty list commits nothing.
   *
   * @throws ConflictException for the first change whose expectation does not hold; nothing is
   *     written
   */
  StoreState applyAll(List<Change> changes) throws ConflictException;

  /** Releases files and locks; reads of the last state still work, writes fail. Idempotent. */
  @Override
  void close();
}
