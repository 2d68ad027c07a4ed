package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Immutable view of everything stored, as of one version. Kinds and names are kept sorted, and
 * kinds without documents are dropped, so two states with the same documents are equal.
 *
 * @param version how many commits the store has seen: +1 per commit, persisted, never reused
 * @param byKind documents by kind, then by name
 */
public record StoreState(long version, Map<String, Map<String, StoredDocument>> byKind) {

  /** A store that has never been written to. */
  public static final StoreState EMPTY = new StoreState(0, Map.of());

  public StoreState {
    if (version < 0) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 0)");
    }
    requireNonNull(byKind, "byKind");
    SortedMap<String, Map<String, StoredDocument>> kinds = new TreeMap<>();
    for (Map.Entry<String, Map<String, StoredDocument>> kind : byKind.entrySet()) {
      requireNonNull(kind.getValue(), "byKind[" + kind.getKey() + "]");
      if (kind.getValue().isEmpty()) {
        continue;
      }
      SortedMap<String, StoredDocument> docs = new TreeMap<>();
      for (Map.Entry<String, StoredDocument> doc : kind.getValue().entrySet()) {
        StoredDocument d =
            requireNonNull(doc.getValue(), "byKind[" + kind.getKey() + "][" + doc.getKey() + "]");
        if (!d.kind().equals(kind.getKey()) || !d.name().equals(doc.getKey())) {
          throw new IllegalArgumentException(
              "byKind[" + kind.getKey() + "][" + doc.getKey() + "]: holds " + d.kind() + " '"
                  + d.name() + "' (expected: the document of that kind and name)");
        }
        if (d.revision() > version) {
          throw new IllegalArgumentException(
              "byKind[" + kind.getKey() + "][" + doc.getKey() + "].revision: " + d.revision()
                  + " (expected: <= the state's version " + version + ")");
        }
        docs.put(doc.getKey(), d);
      }
      kinds.put(kind.getKey(), Collections.unmodifiableSortedMap(docs));
    }
    byKind = Collections.unmodifiableSortedMap(kinds);
  }

  /** The document of this kind and name, if it exists. */
  public Optional<StoredDocument> get(String kind, String name) {
    return Optional.ofNullable(byKind.getOrDefault(kind, Map.of()).get(name));
  }

  /** Every document of this kind, sorted by name; empty for an unknown kind. */
  public List<StoredDocument> list(String kind) {
    return List.copyOf(byKind.getOrDefault(kind, Map.of()).values());
  }

  /** How many documents there are, of all kinds. */
  public int size() {
    return byKind.values().stream().mapToInt(Map::size).sum();
  }

  /**
   * The state committing {@code changes} would produce, without committing anything: what a
   * caller checks before it asks a store to apply them.
   *
   * @throws ConflictException if an expected revision does not match this state
   */
  public StoreState after(List<Change> changes) throws ConflictException {
    return Transitions.next(this, changes);
  }
}
