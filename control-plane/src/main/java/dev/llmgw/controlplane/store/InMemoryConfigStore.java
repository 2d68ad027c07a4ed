package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A store that keeps everything in memory and loses it on exit: for tests and {@code
 * --store=memory}. It follows the same rules as {@link FileConfigStore}, so tests written against
 * it hold for the real one.
 */
public final class InMemoryConfigStore implements ConfigStore {

  private volatile StoreState state;
  private boolean closed;

  /** An empty store at version 0. */
  public InMemoryConfigStore() {
    this(StoreState.EMPTY);
  }

  /** A store that starts from {@code initial}, e.g. to test code that reads an existing state. */
  public InMemoryConfigStore(StoreState initial) {
    this.state = requireNonNull(initial, "initial");
  }

  @Override
  public StoreState state() {
    return state;
  }

  @Override
  public synchronized StoreState applyAll(List<Change> changes) throws ConflictException {
    if (closed) {
      throw new IllegalStateException("the store is closed (expected: writes before close())");
    }
    state = Transitions.next(state, changes);
    return state;
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
