package dev.llmgw.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ChangeTest {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @Test
  void putNeedsABody() {
    assertThatThrownBy(
            () -> new Change(Change.Op.PUT, "providers", "a", null, OptionalLong.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("body: null (expected: a JSON value for PUT; use DELETE to remove a document)");
    assertThatThrownBy(() -> Change.put("providers", "a", NODES.nullNode()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("body: NULL");
  }

  @Test
  void deleteTakesNoBody() {
    assertThatThrownBy(() -> new Change(
            Change.Op.DELETE, "providers", "a", NODES.objectNode(), OptionalLong.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("body: OBJECT (expected: null for DELETE)");
  }

  @Test
  void expectedRevisionCannotBeNegativeAndKeysCannotBeBlank() {
    assertThatThrownBy(() -> Change.put("providers", "a", NODES.objectNode(), -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("expectedRevision: -1 (expected: >= 0, or empty for unconditional)");
    assertThatThrownBy(() -> Change.delete(" ", "a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kind: ' ' (expected: not blank)");
    assertThatThrownBy(() -> Change.delete("providers", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("name");
  }

  @Test
  void factoriesSetTheExpectation() {
    assertThat(Change.create("k", "n", NODES.objectNode()).expectedRevision())
        .isEqualTo(OptionalLong.of(0));
    assertThat(Change.put("k", "n", NODES.objectNode()).expectedRevision()).isEmpty();
    assertThat(Change.delete("k", "n", 4).expectedRevision()).isEqualTo(OptionalLong.of(4));
  }

  @Test
  void stateRefusesADocumentFiledUnderAnotherNameOrFromTheFuture() {
    StoredDocument a = new StoredDocument("providers", "a", NODES.objectNode(), 1);

    assertThatThrownBy(() -> new StoreState(1, Map.of("providers", Map.of("b", a))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("byKind[providers][b]: holds providers 'a'");
    assertThatThrownBy(() -> new StoreState(0, Map.of("providers", Map.of("a", a))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("revision: 1 (expected: <= the state's version 0)");
  }
}
