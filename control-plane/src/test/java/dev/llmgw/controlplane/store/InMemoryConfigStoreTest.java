package dev.llmgw.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class InMemoryConfigStoreTest extends ConfigStoreContract {

  @Override
  ConfigStore newStore(Path dir) {
    return new InMemoryConfigStore();
  }

  @Test
  void startsFromAGivenStateAndContinuesItsVersions() throws Exception {
    StoreState initial;
    try (InMemoryConfigStore source = new InMemoryConfigStore()) {
      source.apply(Change.create(PROVIDERS, "a", body(1)));
      initial = source.apply(Change.create(PROVIDERS, "b", body(2)));
    }

    try (InMemoryConfigStore copy = new InMemoryConfigStore(initial)) {
      assertThat(copy.state()).isEqualTo(initial);
      assertThat(copy.apply(Change.put(PROVIDERS, "a", body(3), 1)).version()).isEqualTo(3);
    }
  }
}
