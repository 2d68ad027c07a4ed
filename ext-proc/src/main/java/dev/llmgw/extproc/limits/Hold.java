package dev.llmgw.extproc.limits;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import org.jspecify.annotations.Nullable;

/**
 * What one admitted request holds in one counter, so that settling needs nothing but the admission
 * (not the configuration, which may have been reloaded meanwhile).
 *
 * @param counter what the counter counts
 * @param key the store key
 * @param reserved what admission added: micro-dollars, tokens or requests (0 if the store failed open)
 * @param second the epoch second of admission: the window bucket a correction goes to
 * @param scope whose counter
 * @param scopeId tenant name or key fingerprint
 * @param budget the budget's rule with its precomputed numbers, or null for rate counters
 * @param periodStart the budget period's first day, or null for rate counters
 * @param known whether the policy names {@code scopeId}: a rule's own id (not {@code "*"}), a
 *     registered API key or its registration's tenant, a tenant with its own models, or a route.
 *     Other ids are whatever a client sent, matched only by a {@code "*"} rule
 */
record Hold(
    Counter counter,
    String key,
    long reserved,
    long second,
    ScopeKind scope,
    String scopeId,
    @Nullable CompiledBudget budget,
    @Nullable LocalDate periodStart,
    boolean known) {

  enum Counter {
    BUDGET,
    TOKENS,
    REQUESTS
  }

  /** The budget of a {@link Counter#BUDGET} hold (never called on a rate hold). */
  CompiledBudget budgetOfBudgetHold() {
    return requireNonNull(budget, "budget (expected: a BUDGET hold)");
  }

  /** The period start of a {@link Counter#BUDGET} hold (never called on a rate hold). */
  LocalDate periodStartOfBudgetHold() {
    return requireNonNull(periodStart, "periodStart (expected: a BUDGET hold)");
  }

  Hold unreserved() {
    return new Hold(counter, key, 0, second, scope, scopeId, budget, periodStart, known);
  }
}
