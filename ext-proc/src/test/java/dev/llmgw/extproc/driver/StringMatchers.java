package dev.llmgw.extproc.driver;

import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Envoy's {@code StringMatcher} semantics for {@code forward_rules}, and
 * {@code MutationUtils::headerCanBeForwarded}: with no lists every header goes to the processor; a
 * disallowed match always wins; with an allow list only matches go.
 */
final class StringMatchers {

  private StringMatchers() {}

  static void validate(StringMatcher m) {
    if (m.getMatchPatternCase() == StringMatcher.MatchPatternCase.CUSTOM
        || m.getMatchPatternCase() == StringMatcher.MatchPatternCase.MATCHPATTERN_NOT_SET) {
      throw new IllegalArgumentException("forward_rules matcher " + m.getMatchPatternCase()
          + " (expected: exact, prefix, suffix, contains or safe_regex)");
    }
  }

  static boolean forwardable(String name, ListStringMatcher allowed, ListStringMatcher disallowed) {
    if (anyMatch(disallowed, name)) {
      return false;
    }
    return allowed.getPatternsCount() == 0 || anyMatch(allowed, name);
  }

  private static boolean anyMatch(ListStringMatcher list, String value) {
    for (StringMatcher m : list.getPatternsList()) {
      if (matches(m, value)) {
        return true;
      }
    }
    return false;
  }

  static boolean matches(StringMatcher m, String value) {
    boolean ic = m.getIgnoreCase();
    String v = ic ? value.toLowerCase(Locale.ROOT) : value;
    return switch (m.getMatchPatternCase()) {
      case EXACT -> v.equals(ic ? m.getExact().toLowerCase(Locale.ROOT) : m.getExact());
      case PREFIX -> v.startsWith(ic ? m.getPrefix().toLowerCase(Locale.ROOT) : m.getPrefix());
      case SUFFIX -> v.endsWith(ic ? m.getSuffix().toLowerCase(Locale.ROOT) : m.getSuffix());
      case CONTAINS -> v.contains(ic ? m.getContains().toLowerCase(Locale.ROOT) : m.getContains());
      case SAFE_REGEX ->
        Pattern.compile(m.getSafeRegex().getRegex()).matcher(value).matches();
      default ->
        throw new IllegalArgumentException("unsupported StringMatcher " + m.getMatchPatternCase());
    };
  }
}
