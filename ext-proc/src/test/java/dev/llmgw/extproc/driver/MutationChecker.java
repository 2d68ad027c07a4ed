package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Envoy's header mutation rule checker ({@code Filters::Common::MutationRules::Checker},
 * source/extensions/filters/common/mutation_rules/mutation_rules.cc), configured from
 * {@code ExternalProcessor.mutation_rules}.
 *
 * <p>Defaults (all rule fields unset), per mutation_rules.proto: any header may be changed except the
 * routing headers {@code host}, {@code :authority}, {@code :scheme}, {@code :method} and headers
 * starting {@code x-envoy}; a pseudo-header can never be appended to or removed, nor can
 * {@code host}. A disallowed change is ignored, or fails the request when {@code disallow_is_error}.
 */
final class MutationChecker {

  enum Operation {
    SET,
    APPEND,
    REMOVE
  }

  enum Result {
    OK,
    /** Disallowed; Envoy skips the change and counts {@code rejected_header_mutations}. */
    IGNORE,
    /** Disallowed with {@code disallow_is_error}; Envoy fails the request with a 500. */
    FAIL
  }

  /** {@code ExtraRoutingHeaders}: HostLegacy, Host (:authority), Method, Scheme. */
  private static final Set<String> ROUTING_HEADERS =
      Set.of("host", ":authority", ":method", ":scheme");
  /** Envoy's internal header prefix ({@code Http::Headers::get().prefix()}), unless the bootstrap changes it. */
  static final String ENVOY_PREFIX = "x-envoy";

  private static final String TCHARS = "!#$%&'*+-.^_`|~";

  private final HeaderMutationRules rules;
  private final Pattern allow;
  private final Pattern disallow;

  MutationChecker(HeaderMutationRules rules) {
    this.rules = requireNonNull(rules, "rules");
    this.allow = rules.hasAllowExpression() ? compile(rules.getAllowExpression()) : null;
    this.disallow = rules.hasDisallowExpression() ? compile(rules.getDisallowExpression()) : null;
  }

  /** {@code Checker::check}: {@code name} is already lower-case. */
  Result check(Operation op, String name, String value) {
    if (isAllowed(op, name) && (op == Operation.REMOVE || isValidValue(name, value))) {
      return Result.OK;
    }
    return rules.getDisallowIsError().getValue() ? Result.FAIL : Result.IGNORE;
  }

  private boolean isAllowed(Operation op, String name) {
    if (op == Operation.REMOVE && !isModifiable(name)) {
      return false;
    }
    if (disallow != null && disallow.matcher(name).matches()) {
      return false;
    }
    if (allow != null && allow.matcher(name).matches()) {
      return true;
    }
    if (rules.getDisallowAll().getValue()) {
      return false;
    }
    if (!rules.getAllowAllRouting().getValue() && ROUTING_HEADERS.contains(name)) {
      return false;
    }
    if (name.startsWith(":")
        && (op == Operation.APPEND || rules.getDisallowSystem().getValue())) {
      return false;
    }
    return rules.getAllowEnvoy().getValue() || !name.startsWith(ENVOY_PREFIX);
  }

  /** {@code HeaderUtility::isModifiableHeader}: never remove a pseudo-header or {@code host}. */
  private static boolean isModifiable(String name) {
    return !name.startsWith(":") && !name.equals("host");
  }

  /** {@code Checker::isValidValue}: values that would make Envoy misbehave are rejected like disallowed names. */
  private static boolean isValidValue(String name, String value) {
    if (!name.startsWith(":") && !headerValueIsValid(value)) {
      return false;
    }
    if ((name.equals(":authority") || name.equals("host")) && !authorityIsValid(value)) {
      return false;
    }
    if (name.equals(":scheme")) {
      String s = value.toLowerCase(Locale.ROOT);
      if (!s.equals("http") && !s.equals("https")) {
        return false;
      }
    }
    if (name.equals(":status")) {
      try {
        return Long.parseLong(value) >= 200;
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code HeaderUtility::headerNameIsValid}: a token; a pseudo-header name after the colon must be
   * lower-case (HTTP/2 rules), a regular one may carry upper case (HTTP/1 rules).
   */
  static boolean headerNameIsValid(String key) {
    if (key.isEmpty()) {
      return false;
    }
    boolean pseudo = key.charAt(0) == ':';
    String rest = pseudo ? key.substring(1) : key;
    if (rest.isEmpty()) {
      return false;
    }
    for (int i = 0; i < rest.length(); i++) {
      char c = rest.charAt(i);
      boolean alpha = (c >= 'a' && c <= 'z') || (!pseudo && c >= 'A' && c <= 'Z');
      if (!alpha && !(c >= '0' && c <= '9') && TCHARS.indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  /** {@code HeaderUtility::headerValueIsValid}: no NUL, CR or LF. */
  static boolean headerValueIsValid(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\0' || c == '\r' || c == '\n') {
        return false;
      }
    }
    return true;
  }

  /** {@code HeaderUtility::authorityIsValid}: only characters an RFC 3986 authority may hold. */
  private static boolean authorityIsValid(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=:@%[]".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Envoy matches header names against the whole expression (RE2 full match). */
  static Pattern compile(RegexMatcher matcher) {
    return Pattern.compile(matcher.getRegex());
  }
}
