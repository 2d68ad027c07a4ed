package dev.llmgw.extproc.limits;

import java.time.LocalDate;

/**
 * Store keys, without the store's own prefix. The scope id comes last so that a tenant name with
 * {@code :} in it cannot make two keys equal; budget keys carry the period's first day, so a new
 * period is a new counter and the old one just expires.
 */
final class Keys {

  private Keys() {}

  /** e.g. {@code budget:tenant:monthly:2026-03-01:acme}. */
  static String budget(ScopeKind scope, Period period, LocalDate start, String id) {
    return "budget:" + scope.configName() + ':' + period.configName() + ':' + start + ':' + id;
  }

  /** e.g. {@code rate:api_key:tokens:key_1a2b3c4d5e6f}. */
  static String tokens(ScopeKind scope, String id) {
    return "rate:" + scope.configName() + ":tokens:" + id;
  }

  /** e.g. {@code rate:tenant:requests:acme}. */
  static String requests(ScopeKind scope, String id) {
    return "rate:" + scope.configName() + ":requests:" + id;
  }
}
