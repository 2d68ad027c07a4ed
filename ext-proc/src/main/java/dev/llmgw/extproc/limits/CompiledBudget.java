package dev.llmgw.extproc.limits;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * A {@link BudgetRule} with its numbers in micro-dollars, computed once per configuration rather
 * than per request.
 *
 * @param thresholdMicros settled spend at which each alert fires, rounded up to the micro-dollar
 * @param thresholdTags the thresholds as metric tag values ("0.8", "1")
 */
record CompiledBudget(
    BudgetRule rule, long limitMicros, long[] thresholdMicros, String[] thresholdTags) {

  static CompiledBudget of(BudgetRule rule) {
    long limit = Usd.exactMicros(rule.limitUsd());
    List<BigDecimal> thresholds = rule.alertThresholds();
    long[] micros = new long[thresholds.size()];
    String[] tags = new String[thresholds.size()];
    for (int i = 0; i < micros.length; i++) {
      micros[i] = BigDecimal.valueOf(limit)
          .multiply(thresholds.get(i))
          .setScale(0, RoundingMode.CEILING)
          .longValueExact();
      tags[i] = thresholds.get(i).stripTrailingZeros().toPlainString();
    }
    return new CompiledBudget(rule, limit, micros, tags);
  }
}
