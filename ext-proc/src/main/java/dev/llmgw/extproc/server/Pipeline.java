package dev.llmgw.extproc.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The stages of every exchange, in the order they run, checked once when ext-proc starts: every
 * fact a stage needs is produced by a stage before it, and no fact has two producers. A pipeline
 * that fails the check does not start, with a message naming the stage, the fact and what to do.
 */
public final class Pipeline {

  private final List<ExchangeListener> stages;

  private Pipeline(List<ExchangeListener> stages) {
    this.stages = stages;
  }

  /**
   * @throws IllegalStateException when a need has no earlier producer or a fact two producers
   */
  public static Pipeline of(List<ExchangeListener> stages) {
    List<ExchangeListener> ordered = List.copyOf(stages);
    Map<Fact<?>, String> producers = new HashMap<>();
    for (ExchangeListener stage : ordered) {
      for (Fact<?> fact : stage.produces()) {
        String other = producers.get(fact);
        if (other != null) {
          throw new IllegalStateException("stages '" + other + "' and '" + stage.name()
              + "' both produce the fact '" + fact + "' (expected: one producer per fact)");
        }
      }
      // In name order, so the message names the same missing fact on every start.
      for (Fact<?> fact : sortedByName(stage.needs())) {
        if (!producers.containsKey(fact)) {
          String later = ordered.stream()
              .filter(s -> s.produces().contains(fact))
              .map(ExchangeListener::name)
              .findFirst()
              .orElse(null);
          throw new IllegalStateException("stage '" + stage.name() + "' needs the fact '" + fact
              + "', "
              + (later == null
                  ? "which no stage of the pipeline produces"
                  : "which '" + later + "' produces only after it")
              + " (stages in order: " + names(ordered) + "; expected: a producer of '" + fact
              + "' before '" + stage.name() + "')");
        }
      }
      for (Fact<?> fact : stage.produces()) {
        producers.put(fact, stage.name());
      }
    }
    return new Pipeline(ordered);
  }

  public List<ExchangeListener> stages() {
    return stages;
  }

  private static List<Fact<?>> sortedByName(java.util.Set<Fact<?>> facts) {
    return facts.stream().sorted(java.util.Comparator.comparing(Fact::name)).toList();
  }

  private static String names(List<ExchangeListener> stages) {
    return stages.stream().map(ExchangeListener::name).collect(Collectors.joining(", "));
  }
}
