package dev.llmgw.extproc.driver;

import static dev.llmgw.extproc.driver.MutationChecker.Operation.APPEND;
import static dev.llmgw.extproc.driver.MutationChecker.Operation.REMOVE;
import static dev.llmgw.extproc.driver.MutationChecker.Operation.SET;
import static dev.llmgw.extproc.driver.MutationChecker.Result.FAIL;
import static dev.llmgw.extproc.driver.MutationChecker.Result.IGNORE;
import static dev.llmgw.extproc.driver.MutationChecker.Result.OK;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import org.junit.jupiter.api.Test;

/** Envoy's header mutation rules (mutation_rules.cc), checked without a stream. */
class MutationCheckerTest {

  private static final MutationChecker DEFAULTS =
      new MutationChecker(HeaderMutationRules.getDefaultInstance());

  @Test
  void defaultsAllowOrdinaryHeadersAndPathButNotRoutingOrEnvoyHeaders() {
    assertThat(DEFAULTS.check(SET, "x-llmgw-route", "openai")).isEqualTo(OK);
    assertThat(DEFAULTS.check(SET, ":path", "/v1/responses")).isEqualTo(OK);
    assertThat(DEFAULTS.check(SET, ":status", "429")).isEqualTo(OK);
    assertThat(DEFAULTS.check(SET, "host", "a.example")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, ":authority", "a.example")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, ":method", "PUT")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, ":scheme", "http")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, "x-envoy-max-retries", "3")).isEqualTo(IGNORE);
  }

  @Test
  void pseudoHeadersCanBeNeitherAppendedToNorRemovedAndHostCannotBeRemoved() {
    assertThat(DEFAULTS.check(APPEND, ":path", "/x")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(REMOVE, ":path", "")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(REMOVE, "host", "")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(REMOVE, "x-trace", "")).isEqualTo(OK);
  }

  @Test
  void valuesThatWouldBreakEnvoyAreRejectedLikeDisallowedNames() {
    assertThat(DEFAULTS.check(SET, "x-a", "line\nbreak")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, ":status", "99")).isEqualTo(IGNORE);
    assertThat(DEFAULTS.check(SET, ":status", "abc")).isEqualTo(IGNORE);
    MutationChecker routing = new MutationChecker(
        HeaderMutationRules.newBuilder().setAllowAllRouting(BoolValue.of(true)).build());
    assertThat(routing.check(SET, ":scheme", "ftp")).isEqualTo(IGNORE);
    assertThat(routing.check(SET, ":authority", "bad host")).isEqualTo(IGNORE);
    assertThat(routing.check(SET, ":authority", "api.openai.com:443")).isEqualTo(OK);
  }

  @Test
  void rulesCanWidenAndNarrowWhatIsAllowed() {
    MutationChecker envoy = new MutationChecker(
        HeaderMutationRules.newBuilder().setAllowEnvoy(BoolValue.of(true)).build());
    assertThat(envoy.check(SET, "x-envoy-max-retries", "3")).isEqualTo(OK);

    MutationChecker noSystem = new MutationChecker(
        HeaderMutationRules.newBuilder().setDisallowSystem(BoolValue.of(true)).build());
    assertThat(noSystem.check(SET, ":path", "/x")).isEqualTo(IGNORE);

    MutationChecker none = new MutationChecker(HeaderMutationRules.newBuilder()
        .setDisallowAll(BoolValue.of(true))
        .setAllowExpression(RegexMatcher.newBuilder().setRegex("x-llmgw-.*"))
        .build());
    assertThat(none.check(SET, "x-other", "1")).isEqualTo(IGNORE);
    assertThat(none.check(SET, "x-llmgw-route", "1"))
        .as("allow_expression beats disallow_all")
        .isEqualTo(OK);
  }

  @Test
  void disallowExpressionWinsOverEverythingAndDisallowIsErrorTurnsIgnoreIntoFail() {
    MutationChecker strict = new MutationChecker(HeaderMutationRules.newBuilder()
        .setAllowExpression(RegexMatcher.newBuilder().setRegex("x-.*"))
        .setDisallowExpression(RegexMatcher.newBuilder().setRegex("x-secret"))
        .setDisallowIsError(BoolValue.of(true))
        .build());
    assertThat(strict.check(SET, "x-secret", "1")).isEqualTo(FAIL);
    assertThat(strict.check(SET, "x-secret-2", "1")).as("full match only").isEqualTo(OK);
    assertThat(strict.check(SET, "host", "a")).isEqualTo(FAIL);
  }

  @Test
  void headerNamesFollowEnvoysValidation() {
    assertThat(MutationChecker.headerNameIsValid("X-Mixed-Case")).isTrue();
    assertThat(MutationChecker.headerNameIsValid(":path")).isTrue();
    assertThat(MutationChecker.headerNameIsValid(":Path")).isFalse();
    assertThat(MutationChecker.headerNameIsValid("bad name")).isFalse();
    assertThat(MutationChecker.headerNameIsValid(":")).isFalse();
    assertThat(MutationChecker.headerNameIsValid("")).isFalse();
  }
}
