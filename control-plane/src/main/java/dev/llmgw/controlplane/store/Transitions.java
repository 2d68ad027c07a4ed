package dev.llmgw.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** The one definition of what a commit does to a state, shared by every store and by replay. */
final class Transitions {

  private Transitions() {}

  /**
   * The state after committing {@code changes} on top of {@code current}: one version step, each
   * written document at the new version. Returns {@code current} itself for an empty list.
   */
  static StoreState next(StoreState current, List<Change> changes) throws ConflictException {
    requireNonNull(changes, "changes");
    if (changes.isEmpty()) {
      return current;
    }
    long version = current.version() + 1;
    Map<String, Map<String, StoredDocument>> kinds = new HashMap<>(current.byKind());
    Set<String> copied = new HashSet<>();
    Set<List<String>> seen = new HashSet<>();
    for (int i = 0; i < changes.size(); i++) {
      Change change = requireNonNull(changes.get(i), "changes[" + i + "]");
      if (!seen.add(List.of(change.kind(), change.name()))) {
        throw new IllegalArgumentException(
            "changes[" + i + "]: " + change.kind() + " '" + change.name()
                + "' is changed more than once (expected: at most one change per document in one commit)");
      }
      if (copied.add(change.kind())) {
        kinds.put(change.kind(), new TreeMap<>(kinds.getOrDefault(change.kind(), Map.of())));
      }
      Map<String, StoredDocument> docs =
          requireNonNull(kinds.get(change.kind()), "copied into kinds above");
      check(change, docs.get(change.name()));
      if (change.op() == Change.Op.PUT) {
        docs.put(
            change.name(),
            new StoredDocument(
                change.kind(),
                change.name(),
                requireNonNull(change.body(), "a PUT always has a body"),
                version));
      } else {
        docs.remove(change.name());
      }
    }
    return new StoreState(version, kinds);
  }

  private static void check(Change change, @Nullable StoredDocument existing)
      throws ConflictException {
    OptionalLong current =
        existing == null ? OptionalLong.empty() : OptionalLong.of(existing.revision());
    OptionalLong expected = change.expectedRevision();
    if (expected.isPresent() && expected.getAsLong() == 0 && current.isPresent()) {
      throw new ConflictException(change.kind(), change.name(), "it not to exist", current);
    }
    if (expected.isPresent() && expected.getAsLong() > 0 && !current.equals(expected)) {
      throw new ConflictException(
          change.kind(), change.name(), "revision " + expected.getAsLong(), current);
    }
    if (change.op() == Change.Op.DELETE && current.isEmpty()) {
      throw new ConflictException(
          change.kind(), change.name(), "it to exist (to delete it)", current);
    }
  }
}
