package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory side of every ledger: daily totals per {@link SpendRow.Attribution} (tenant, API
 * key, route, provider, model), and the ids of
 * recent records for duplicate detection. Writers take turns, and a writer's {@link Persist} runs
 * before anything becomes visible, so queries see whole, durable batches and never wait for a
 * write to reach the disk.
 */
final class SpendBook {

  /** Makes the new records of a batch durable, or throws; runs while other writers wait. */
  @FunctionalInterface
  interface Persist {
    void write(List<Spend> fresh);
  }

  /** One row of a query's answer; null stands for a dimension the query does not group by. */
  private record Group(@Nullable LocalDate day, SpendRow.Attribution attribution) {}

  private static final Comparator<String> TEXT = Comparator.nullsFirst(Comparator.naturalOrder());
  /**
   * The order of query rows: day, tenant, API key, route, provider, model, each with null (not
   * grouped) first.
   */
  static final Comparator<SpendRow> ROW_ORDER = Comparator.comparing(
          SpendRow::day, Comparator.nullsFirst(Comparator.<LocalDate>naturalOrder()))
      .thenComparing(SpendRow::tenant, TEXT)
      .thenComparing(SpendRow::apiKeyId, TEXT)
      .thenComparing(SpendRow::route, TEXT)
      .thenComparing(SpendRow::provider, TEXT)
      .thenComparing(SpendRow::model, TEXT);

  private final Clock clock;
  private final int dedupWindowDays;
  private final ReentrantLock writer = new ReentrantLock();
  private final ReadWriteLock maps = new ReentrantReadWriteLock();
  // Guarded by maps; changed only by the writer holding `writer`.
  private final NavigableMap<LocalDate, Map<SpendRow.Attribution, SpendTotals>> totals =
      new TreeMap<>();
  private final NavigableMap<LocalDate, Set<String>> ids = new TreeMap<>();
  private long rememberedIds;

  SpendBook(Clock clock, int dedupWindowDays) {
    this.clock = requireNonNull(clock, "clock");
    if (dedupWindowDays < 0) {
      throw new IllegalArgumentException(
          "dedupWindowDays: " + dedupWindowDays + " (expected: >= 0)");
    }
    this.dedupWindowDays = dedupWindowDays;
  }

  int dedupWindowDays() {
    return dedupWindowDays;
  }

  /** Today by the book's clock: the day the id window is counted back from. */
  LocalDate today() {
    return LocalDate.now(clock);
  }

  /**
   * Keeps the records of {@code batch} whose id is new (neither remembered nor earlier in the
   * batch), hands them to {@code persist}, and adds them up once it returned.
   */
  SpendLedger.Recorded record(List<Spend> batch, Persist persist) {
    requireNonNull(batch, "batch");
    writer.lock();
    try {
      List<Spend> fresh = new ArrayList<>(batch.size());
      Set<String> inBatch = new HashSet<>();
      for (Spend s : batch) {
        if (inBatch.add(s.id()) && !remembered(s)) {
          fresh.add(s);
        }
      }
      if (!fresh.isEmpty()) {
        persist.write(fresh);
        add(fresh);
      }
      return new SpendLedger.Recorded(fresh.size(), batch.size() - fresh.size());
    } finally {
      writer.unlock();
    }
  }

  /** Adds records that are already stored (replay of a journal): no duplicate check, no persist. */
  void replay(List<Spend> stored) {
    writer.lock();
    try {
      add(stored);
    } finally {
      writer.unlock();
    }
  }

  /**
   * Adds totals folded out of a journal earlier (a ledger's totals file): they count in queries but
   * bring no ids, so they must be older than the id window.
   */
  void restore(List<SpendRow> rows) {
    writer.lock();
    maps.writeLock().lock();
    try {
      for (SpendRow r : rows) {
        // A totals file's rows are grouped by every dimension, so none is null.
        totals
            .computeIfAbsent(requireNonNull(r.day(), "day"), d -> new HashMap<>())
            .merge(r.attribution(), r.totals(), SpendTotals::plus);
      }
    } finally {
      maps.writeLock().unlock();
      writer.unlock();
    }
  }

  /**
   * Runs {@code action} between batches: while it runs no batch is being persisted or added, so
   * whatever a {@link Persist} wrote so far is exactly what the totals hold. Writers wait meanwhile.
   */
  <T> T betweenBatches(Supplier<T> action) {
    writer.lock();
    try {
      return action.get();
    } finally {
      writer.unlock();
    }
  }

  /** Every total of the days before {@code day}, one row per day and attribution, unsorted. */
  List<SpendRow> rowsBefore(LocalDate day) {
    maps.readLock().lock();
    try {
      List<SpendRow> rows = new ArrayList<>();
      for (var d : totals.headMap(day, false).entrySet()) {
        for (var e : d.getValue().entrySet()) {
          rows.add(new SpendRow(d.getKey(), e.getKey(), e.getValue()));
        }
      }
      return rows;
    } finally {
      maps.readLock().unlock();
    }
  }

  List<SpendRow> query(SpendQuery q) {
    requireNonNull(q, "q");
    Set<SpendQuery.Dimension> by = Set.copyOf(q.groupBy());
    boolean byDay = by.contains(SpendQuery.Dimension.DAY);
    Map<Group, SpendTotals> groups = new HashMap<>();
    maps.readLock().lock();
    try {
      for (var day : totals.subMap(q.from(), true, q.to(), true).entrySet()) {
        for (var e : day.getValue().entrySet()) {
          if (!q.matches(e.getKey())) {
            continue;
          }
          Group group = new Group(byDay ? day.getKey() : null, e.getKey().only(by));
          groups.merge(group, e.getValue(), SpendTotals::plus);
        }
      }
    } finally {
      maps.readLock().unlock();
    }
    List<SpendRow> rows = new ArrayList<>(groups.size());
    groups.forEach((g, t) -> rows.add(new SpendRow(g.day(), g.attribution(), t)));
    rows.sort(ROW_ORDER);
    return rows;
  }

  /** How many record ids are held for duplicate detection (the main user of memory). */
  long rememberedIds() {
    maps.readLock().lock();
    try {
      return rememberedIds;
    } finally {
      maps.readLock().unlock();
    }
  }

  /** Distinct (day, attribution) totals held. */
  long aggregates() {
    maps.readLock().lock();
    try {
      return totals.values().stream().mapToLong(Map::size).sum();
    } finally {
      maps.readLock().unlock();
    }
  }

  private boolean remembered(Spend s) {
    Set<String> day = ids.get(s.day());
    return day != null && day.contains(s.id());
  }

  private void add(List<Spend> records) {
    LocalDate cutoff = LocalDate.now(clock).minusDays(dedupWindowDays);
    maps.writeLock().lock();
    try {
      for (Spend s : records) {
        LocalDate day = s.day();
        totals
            .computeIfAbsent(day, d -> new HashMap<>())
            .merge(SpendRow.Attribution.of(s), SpendTotals.of(s), SpendTotals::plus);
        if (!day.isBefore(cutoff)
            && ids.computeIfAbsent(day, d -> new HashSet<>()).add(s.id())) {
          rememberedIds++;
        }
      }
      var expired = ids.headMap(cutoff, false);
      for (Set<String> old : expired.values()) {
        rememberedIds -= old.size();
      }
      expired.clear();
    } finally {
      maps.writeLock().unlock();
    }
  }
}
