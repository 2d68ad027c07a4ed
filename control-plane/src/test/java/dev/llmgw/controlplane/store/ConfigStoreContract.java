package dev.llmgw.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules every {@link ConfigStore} follows; each implementation's test extends this. */
abstract class ConfigStoreContract {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROVIDERS = "providers";
  static final String ROUTES = "routes";

  @TempDir
  Path tmp;

  ConfigStore store;

  /** A new, empty store; closed after each test. */
  abstract ConfigStore newStore(Path dir);

  static ObjectNode body(int n) {
    return JSON.createObjectNode().put("n", n).put("base_url", "https://p" + n + ".example");
  }

  @BeforeEach
  void openStore() {
    store = newStore(tmp.resolve("store"));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void newStoreIsEmptyAtVersionZero() {
    assertThat(store.state()).isEqualTo(StoreState.EMPTY);
    assertThat(store.state().list(PROVIDERS)).isEmpty();
  }

  @Test
  void createSucceedsOnlyWhenTheDocumentDoesNotExist() throws Exception {
    StoreState created = store.apply(Change.create(PROVIDERS, "a", body(1)));

    assertThat(created.version()).isEqualTo(1);
    assertThat(created.get(PROVIDERS, "a"))
        .contains(new StoredDocument(PROVIDERS, "a", body(1), 1));

    ConflictException e = catchThrowableOfType(
        ConflictException.class, () -> store.apply(Change.create(PROVIDERS, "a", body(2))));
    assertThat(e.currentRevision()).isEqualTo(OptionalLong.of(1));
    assertThat(e.kind()).isEqualTo(PROVIDERS);
    assertThat(e.name()).isEqualTo("a");
    assertThat(e).hasMessage("providers 'a': expected it not to exist, but it is at revision 1");
    assertThat(store.state()).isEqualTo(created);
  }

  @Test
  void updateSucceedsOnlyAtTheExpectedRevision() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));
    store.apply(Change.create(PROVIDERS, "b", body(2)));

    StoreState updated = store.apply(Change.put(PROVIDERS, "a", body(3), 1));

    assertThat(updated.version()).isEqualTo(3);
    assertThat(updated.get(PROVIDERS, "a").orElseThrow().revision()).isEqualTo(3);
    assertThat(updated.get(PROVIDERS, "a").orElseThrow().body()).isEqualTo(body(3));
    assertThat(updated.get(PROVIDERS, "b").orElseThrow().revision()).isEqualTo(2);

    assertThatThrownBy(() -> store.apply(Change.put(PROVIDERS, "a", body(4), 1)))
        .isInstanceOfSatisfying(
            ConflictException.class,
            e -> assertThat(e.currentRevision()).isEqualTo(OptionalLong.of(3)))
        .hasMessage("providers 'a': expected revision 1, but it is at revision 3");
    assertThatThrownBy(() -> store.apply(Change.put(PROVIDERS, "missing", body(5), 2)))
        .isInstanceOfSatisfying(
            ConflictException.class, e -> assertThat(e.currentRevision()).isEmpty())
        .hasMessage("providers 'missing': expected revision 2, but it does not exist");
    assertThat(store.state()).isEqualTo(updated);
  }

  @Test
  void deleteSucceedsOnlyAtTheExpectedRevisionAndOnlyIfTheDocumentExists() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));

    assertThatThrownBy(() -> store.apply(Change.delete(PROVIDERS, "a", 7)))
        .isInstanceOfSatisfying(
            ConflictException.class,
            e -> assertThat(e.currentRevision()).isEqualTo(OptionalLong.of(1)));
    StoreState deleted = store.apply(Change.delete(PROVIDERS, "a", 1));
    assertThat(deleted.version()).isEqualTo(2);
    assertThat(deleted.get(PROVIDERS, "a")).isEmpty();
    assertThat(deleted.byKind()).isEmpty();

    assertThatThrownBy(() -> store.apply(Change.delete(PROVIDERS, "a")))
        .isInstanceOfSatisfying(
            ConflictException.class, e -> assertThat(e.currentRevision()).isEmpty())
        .hasMessage("providers 'a': expected it to exist (to delete it), but it does not exist");
    assertThat(store.state().version()).isEqualTo(2);
  }

  @Test
  void unconditionalPutCreatesAndReplacesWhateverTheRevision() throws Exception {
    store.apply(Change.put(PROVIDERS, "a", body(1)));
    StoreState replaced = store.apply(Change.put(PROVIDERS, "a", body(2)));

    assertThat(replaced.get(PROVIDERS, "a"))
        .contains(new StoredDocument(PROVIDERS, "a", body(2), 2));
  }

  @Test
  void twoWritersWithTheSameExpectedRevisionOneWinsAndTheOtherSeesTheWinnersRevision()
      throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(0)));
    ExecutorService writers = Executors.newFixedThreadPool(2);
    try {
      for (int round = 1; round <= 20; round++) {
        long expected = store.state().get(PROVIDERS, "a").orElseThrow().revision();
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<StoreState>> results = new ArrayList<>();
        for (int writer = 0; writer < 2; writer++) {
          ObjectNode b = body(round * 10 + writer);
          Callable<StoreState> write = () -> {
            start.await();
            return store.apply(Change.put(PROVIDERS, "a", b, expected));
          };
          results.add(writers.submit(write));
        }
        List<StoreState> wins = new ArrayList<>();
        List<ConflictException> conflicts = new ArrayList<>();
        for (Future<StoreState> r : results) {
          try {
            wins.add(r.get());
          } catch (java.util.concurrent.ExecutionException e) {
            conflicts.add((ConflictException) e.getCause());
          }
        }
        assertThat(wins).hasSize(1);
        assertThat(conflicts).hasSize(1);
        assertThat(conflicts.get(0).currentRevision())
            .isEqualTo(OptionalLong.of(wins.get(0).version()));
        assertThat(conflicts.get(0)).hasMessageContaining("expected revision " + expected);
        assertThat(store.state()).isEqualTo(wins.get(0));
      }
    } finally {
      writers.shutdownNow();
    }
  }

  @Test
  void applyAllCommitsEveryChangeAsOneVersion() throws Exception {
    StoreState first = store.applyAll(List.of(
        Change.create(PROVIDERS, "a", body(1)),
        Change.create(PROVIDERS, "b", body(2)),
        Change.create(ROUTES, "r", body(3))));

    assertThat(first.version()).isEqualTo(1);
    assertThat(first.size()).isEqualTo(3);
    assertThat(first.byKind().values())
        .allSatisfy(docs ->
            assertThat(docs.values()).extracting(StoredDocument::revision).containsOnly(1L));

    StoreState second = store.applyAll(
        List.of(Change.put(PROVIDERS, "a", body(4), 1), Change.delete(PROVIDERS, "b", 1)));

    assertThat(second.version()).isEqualTo(2);
    assertThat(second.list(PROVIDERS))
        .containsExactly(new StoredDocument(PROVIDERS, "a", body(4), 2));
    assertThat(second.get(ROUTES, "r").orElseThrow().revision()).isEqualTo(1);
  }

  @Test
  void applyAllWritesNothingWhenOneChangeConflicts() throws Exception {
    StoreState before = store.apply(Change.create(PROVIDERS, "a", body(1)));

    assertThatThrownBy(() -> store.applyAll(List.of(
            Change.create(PROVIDERS, "b", body(2)),
            Change.put(PROVIDERS, "a", body(3), 99),
            Change.create(ROUTES, "r", body(4)))))
        .isInstanceOfSatisfying(ConflictException.class, e -> {
          assertThat(e.name()).isEqualTo("a");
          assertThat(e.currentRevision()).isEqualTo(OptionalLong.of(1));
        });

    assertThat(store.state()).isEqualTo(before);
    assertThat(store.apply(Change.create(PROVIDERS, "b", body(2))).version()).isEqualTo(2);
  }

  @Test
  void applyAllRefusesToChangeOneDocumentTwice() {
    assertThatThrownBy(() -> store.applyAll(
            List.of(Change.create(PROVIDERS, "a", body(1)), Change.delete(PROVIDERS, "a"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("changes[1]: providers 'a' is changed more than once");
    assertThat(store.state()).isEqualTo(StoreState.EMPTY);
  }

  @Test
  void emptyApplyAllCommitsNothing() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));

    StoreState after = store.applyAll(List.of());

    assertThat(after).isSameAs(store.state());
    assertThat(after.version()).isEqualTo(1);
  }

  @Test
  void versionGrowsByOnePerCommitAndNotOnConflicts() throws Exception {
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      versions.add(store.apply(Change.put(PROVIDERS, "p" + (i % 3), body(i))).version());
      assertThatThrownBy(() -> store.apply(Change.create(PROVIDERS, "p0", body(0))))
          .isInstanceOf(ConflictException.class);
    }
    assertThat(versions).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void statesAreImmutableAndIsolatedFromTheCallersJson() throws Exception {
    ObjectNode mine = body(1);
    StoreState state = store.apply(Change.put(PROVIDERS, "a", mine));

    mine.put("n", 999);

    assertThat(store.state().get(PROVIDERS, "a").orElseThrow().body()).isEqualTo(body(1));
    assertThat(state.get(PROVIDERS, "a").orElseThrow().body()).isEqualTo(body(1));
    assertThatThrownBy(() -> state.byKind().put(ROUTES, Map.of()))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> state.byKind().get(PROVIDERS).remove("a"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void listIsSortedByNameAndGetFindsByKindAndName() throws Exception {
    store.apply(Change.create(PROVIDERS, "c", body(1)));
    store.apply(Change.create(PROVIDERS, "a", body(2)));
    store.apply(Change.create(ROUTES, "a", body(3)));
    store.apply(Change.create(PROVIDERS, "b", body(4)));

    StoreState state = store.state();

    assertThat(state.list(PROVIDERS))
        .extracting(StoredDocument::name)
        .containsExactly("a", "b", "c");
    assertThat(state.list("unknown")).isEmpty();
    assertThat(state.get(ROUTES, "a").orElseThrow().body()).isEqualTo(body(3));
    assertThat(state.get(ROUTES, "b")).isEmpty();
    assertThat(state.byKind().keySet()).containsExactly(PROVIDERS, ROUTES);
  }

  @Test
  void writesAfterCloseAreRefusedButTheLastStateStaysReadable() throws Exception {
    store.apply(Change.create(PROVIDERS, "a", body(1)));
    store.close();

    assertThatThrownBy(() -> store.apply(Change.create(PROVIDERS, "b", body(2))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThat(store.state().version()).isEqualTo(1);
  }
}
