package dev.llmgw.extproc.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.extproc.pii.EntityType;
import dev.llmgw.extproc.pii.PiiPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLoaderTest {

  static final String POLICY = """
      version: "7"
      max_request_body_bytes: 1048576
      unknown_model: reject
      failure_mode: fail_closed
      route_failure_modes: { openai: fail_open }
      include_stream_usage: true
      identity_headers: { tenant: X-Tenant }
      models:
        fast: { route: openai, model: gpt-4o-mini }
        gpt-4o: { route: openai, model: gpt-4o }
        smart: { route: anthropic, model: claude-sonnet-4-5 }
      tenant_models:
        acme: { fast: { route: openai, model: gpt-4.1-mini } }
      """;

  @TempDir
  Path dir;

  @Test
  void parsesEveryFieldWithDefaultsForTheRest() throws Exception {
    GatewayPolicy policy = PolicyLoader.parse(POLICY, "test");

    assertThat(policy.version()).isEqualTo("7");
    assertThat(policy.maxRequestBodyBytes()).isEqualTo(1048576);
    assertThat(policy.identityHeaders().tenant()).isEqualTo("x-tenant");
    assertThat(policy.identityHeaders().user()).isEqualTo("x-llmgw-user");
    assertThat(policy.resolve(null, "fast")).contains(new ModelTarget("openai", "gpt-4o-mini"));
    assertThat(policy.resolve("acme", "fast")).contains(new ModelTarget("openai", "gpt-4.1-mini"));
    assertThat(policy.resolve("acme", "smart"))
        .contains(new ModelTarget("anthropic", "claude-sonnet-4-5"));
    assertThat(policy.resolve(null, "nope")).isEmpty();
    assertThat(policy.allowedModels(null)).containsExactly("fast", "gpt-4o", "smart");
    assertThat(policy.failureModeFor("openai")).isEqualTo(GatewayPolicy.FailureMode.FAIL_OPEN);
    assertThat(policy.failureModeFor("anthropic")).isEqualTo(GatewayPolicy.FailureMode.FAIL_CLOSED);
    assertThat(policy.includeStreamUsage()).isTrue();
  }

  @Test
  void unknownFieldIsAnErrorNamingTheKnownOnes() {
    assertThatThrownBy(
            () -> PolicyLoader.parse("version: 1\nunknown_modle: reject\n", "policy.yaml"))
        .isInstanceOf(PolicyLoader.InvalidPolicyException.class)
        .hasMessageContaining("policy.yaml: unknown field 'unknown_modle'")
        .hasMessageContaining("unknown_model");
  }

  @Test
  void badEnumValueSaysWhatIsAllowed() {
    assertThatThrownBy(() -> PolicyLoader.parse("unknown_model: allow\n", "p"))
        .hasMessageContaining(
            "unknown_model: 'allow' is not valid (expected: reject or pass_through)");
  }

  @Test
  void invalidTargetAndLimitAreRejectedWithTheField() {
    assertThatThrownBy(() -> PolicyLoader.parse("models: { fast: { route: '', model: x } }\n", "p"))
        .hasMessageContaining("route: ''");
    assertThatThrownBy(() -> PolicyLoader.parse("max_request_body_bytes: 0\n", "p"))
        .hasMessageContaining("maxRequestBodyBytes: 0 (expected: > 0 and <= 10485760");
    assertThatThrownBy(() -> PolicyLoader.parse("max_request_body_bytes: 10485761\n", "p"))
        .as("Envoy's buffer and the gRPC message size are sized for 10 MiB")
        .hasMessageContaining("maxRequestBodyBytes: 10485761 (expected: > 0 and <= 10485760");
  }

  @Test
  void watcherAppliesChangesAndKeepsTheLastGoodPolicyOnABadOne() throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, POLICY);
    PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PolicyFileWatcher watcher = new PolicyFileWatcher(file, store, new ExtProcMetrics(registry));

    assertThat(watcher.reload().applied()).isTrue();
    assertThat(store.current().version()).isEqualTo("7");
    assertThat(watcher.reload().message()).isEqualTo("unchanged");

    Files.writeString(
        file, POLICY.replace("version: \"7\"", "version: \"8\"").replace("reject", "rejekt"));
    PolicyFileWatcher.LoadResult bad = watcher.reload();
    assertThat(bad.applied()).isFalse();
    assertThat(bad.message()).contains("rejected policy").contains("keeping policy version 7");
    assertThat(store.current().version()).isEqualTo("7");

    Files.writeString(file, POLICY.replace("version: \"7\"", "version: \"9\""));
    assertThat(watcher.reload().applied()).isTrue();
    assertThat(store.current().version()).isEqualTo("9");
    assertThat(registry
            .get(ExtProcMetrics.POLICY_LOADS)
            .tag(ExtProcMetrics.TAG_RESULT, "rejected")
            .counter()
            .count())
        .isEqualTo(1);
    assertThat(registry
            .get(ExtProcMetrics.POLICY_LOADS)
            .tag(ExtProcMetrics.TAG_RESULT, "applied")
            .counter()
            .count())
        .isEqualTo(2);
  }

  @Test
  void shippedExamplePolicyParses() throws Exception {
    Path root =
        Path.of(System.getProperty("gateway.repo.root", "..")).toAbsolutePath().normalize();
    Path file = root.resolve("deploy/ext-proc/policy.yaml");
    GatewayPolicy policy = PolicyLoader.parse(Files.readString(file), file.toString());

    assertThat(policy.resolve(null, "fast")).contains(new ModelTarget("openai", "gpt-4o-mini"));
    assertThat(policy.resolve("research", "smart"))
        .contains(new ModelTarget("anthropic", "claude-sonnet-4-5"));
  }

  @Test
  void piiPoliciesParseWithDefaultsAndOverridesResolveTenantThenRoute() throws Exception {
    GatewayPolicy policy = PolicyLoader.parse("""
        pii:
          default: { entities: { email: mask, credit_card: BLOCK } }
          routes: { anthropic: { entities: { email: redact }, restore: false, response: flag, block_status: 403 } }
          tenants: { research: { entities: {}, on_error: allow } }
        """, "p");
    PiiPolicy byDefault = policy.pii().forExchange(null, "openai").orElseThrow();
    assertThat(byDefault.actionFor(EntityType.EMAIL)).isEqualTo(PiiPolicy.Action.MASK);
    assertThat(byDefault.actionFor(EntityType.CREDIT_CARD)).isEqualTo(PiiPolicy.Action.BLOCK);
    assertThat(byDefault.actionFor(EntityType.PHONE))
        .as("unlisted types are not looked for")
        .isEqualTo(PiiPolicy.Action.ALLOW);
    assertThat(byDefault.restore()).isTrue();
    assertThat(byDefault.onError()).isEqualTo(PiiPolicy.OnError.BLOCK);
    assertThat(byDefault.blockStatus()).isEqualTo(400);
    PiiPolicy route = policy.pii().forExchange("acme", "anthropic").orElseThrow();
    assertThat(route.restore()).isFalse();
    assertThat(route.responseScan()).isEqualTo(PiiPolicy.ResponseScan.FLAG);
    assertThat(route.blockStatus()).isEqualTo(403);
    PiiPolicy tenant = policy.pii().forExchange("research", "anthropic").orElseThrow();
    assertThat(tenant.active()).isFalse();
    assertThat(tenant.onError()).isEqualTo(PiiPolicy.OnError.ALLOW);
    assertThat(PolicyLoader.parse("version: x\n", "p").pii().forExchange("t", "r"))
        .isEmpty();
  }

  @Test
  void badPiiPoliciesNameTheField() {
    assertThatThrownBy(
            () -> PolicyLoader.parse("pii: { default: { entities: { passport: mask } } }\n", "p"))
        .hasMessageContaining(
            "pii.default.entities: unknown PII type: passport (expected one of: email, phone");
    assertThatThrownBy(
            () -> PolicyLoader.parse("pii: { routes: { r: { block_status: 451 } } }\n", "p"))
        .hasMessageContaining("pii.routes.r: blockStatus: 451 (expected: 400 or 403)");
    assertThatThrownBy(
            () -> PolicyLoader.parse("pii: { default: { entities: { email: scramble } } }\n", "p"))
        .hasMessageContaining(
            "'scramble' is not valid (expected: allow or mask or redact or hash or block)");
  }
}
