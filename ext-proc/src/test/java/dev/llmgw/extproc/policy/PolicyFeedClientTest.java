package dev.llmgw.extproc.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.extproc.metrics.ExtProcMetrics;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.PolicyServiceGrpc;
import dev.llmgw.proto.policy.v1.UnknownModel;
import dev.llmgw.proto.policy.v1.WatchPolicyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PolicyFeedClientTest {

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final BlockingQueue<StreamObserver<Policy>> watchers = new LinkedBlockingQueue<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    scheduler.shutdownNow();
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private PolicyFeedClient connect(PolicyStore store) throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(new PolicyServiceGrpc.PolicyServiceImplBase() {
          @Override
          public void watchPolicy(WatchPolicyRequest request, StreamObserver<Policy> responses) {
            watchers.add(responses);
          }
        })
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).build();
    PolicyFeedClient client =
        new PolicyFeedClient(channel, store, new ExtProcMetrics(registry), scheduler, "test");
    client.start();
    return client;
  }

  static Policy policy(String version, String route) {
    return Policy.newBuilder()
        .setVersion(version)
        .putModels(
            "fast",
            dev.llmgw.proto.policy.v1.ModelTarget.newBuilder()
                .setRoute(route)
                .setModel("gpt-4o-mini")
                .build())
        .setUnknownModel(UnknownModel.PASS_THROUGH)
        .setFailureMode(FailureMode.FAIL_OPEN)
        .setIncludeStreamUsage(true)
        .build();
  }

  @Test
  void appliesEveryPushedPolicyAndKeepsTheLastGoodOneOnABadOne() throws Exception {
    PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
    PolicyFeedClient client = connect(store);
    StreamObserver<Policy> feed = watchers.poll(5, TimeUnit.SECONDS);
    assertThat(feed).isNotNull();

    feed.onNext(policy("3", "openai"));
    await().atMost(Duration.ofSeconds(5)).until(() -> client.appliedVersion().equals("3"));
    GatewayPolicy applied = store.current();
    assertThat(applied.version()).isEqualTo("feed-3");
    assertThat(applied.resolve(null, "fast")).contains(new ModelTarget("openai", "gpt-4o-mini"));
    assertThat(applied.unknownModel()).isEqualTo(GatewayPolicy.UnknownModel.PASS_THROUGH);
    assertThat(applied.failureMode()).isEqualTo(GatewayPolicy.FailureMode.FAIL_OPEN);
    assertThat(applied.identityHeaders()).isEqualTo(GatewayPolicy.IdentityHeaders.DEFAULT);
    assertThat(applied.maxRequestBodyBytes())
        .isEqualTo(GatewayPolicy.DEFAULT_MAX_REQUEST_BODY_BYTES);

    feed.onNext(policy("4", ""));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> registry
                .find(ExtProcMetrics.POLICY_LOADS)
                .tag(ExtProcMetrics.TAG_RESULT, "rejected")
                .counter()
            != null);
    assertThat(store.current().version())
        .as("a bad policy leaves the last good one")
        .isEqualTo("feed-3");
  }

  @Test
  void keepsThePolicyWhenTheControlPlaneGoesAwayAndWatchesAgain() throws Exception {
    PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
    PolicyFeedClient client = connect(store);
    StreamObserver<Policy> feed = watchers.poll(5, TimeUnit.SECONDS);
    feed.onNext(policy("7", "openai"));
    await().atMost(Duration.ofSeconds(5)).until(() -> client.appliedVersion().equals("7"));

    feed.onError(io.grpc.Status.UNAVAILABLE
        .withDescription("control plane restarting")
        .asRuntimeException());

    StreamObserver<Policy> again = watchers.poll(10, TimeUnit.SECONDS);
    assertThat(again).as("the client watches again after its backoff").isNotNull();
    assertThat(store.current().version()).isEqualTo("feed-7");
    again.onNext(policy("8", "anthropic"));
    await().atMost(Duration.ofSeconds(5)).until(() -> client.appliedVersion().equals("8"));
    assertThat(store.current().resolve(null, "fast"))
        .contains(new ModelTarget("anthropic", "gpt-4o-mini"));
    client.close();
  }

  @Test
  void convertsPiiPoliciesFromTheFeed() {
    Policy feed = Policy.newBuilder()
        .setVersion("9")
        .setPiiDefault(dev.llmgw.proto.policy.v1.PiiPolicy.newBuilder()
            .putEntities("email", dev.llmgw.proto.policy.v1.PiiAction.PII_MASK)
            .putEntities("secret", dev.llmgw.proto.policy.v1.PiiAction.PII_BLOCK))
        .putTenantPii(
            "research",
            dev.llmgw.proto.policy.v1.PiiPolicy.newBuilder()
                .setRestore(false)
                .setOnError(dev.llmgw.proto.policy.v1.PiiOnError.PII_ON_ERROR_ALLOW)
                .setResponse(dev.llmgw.proto.policy.v1.PiiResponseScan.PII_RESPONSE_MASK)
                .setBlockStatus(403)
                .build())
        .build();
    GatewayPolicy policy = FeedPolicy.convert(feed);
    dev.llmgw.extproc.pii.PiiPolicy byDefault =
        policy.pii().forExchange(null, null).orElseThrow();
    assertThat(byDefault.actionFor(dev.llmgw.extproc.pii.EntityType.SECRET))
        .isEqualTo(dev.llmgw.extproc.pii.PiiPolicy.Action.BLOCK);
    assertThat(byDefault.restore()).as("unset restore means restore").isTrue();
    dev.llmgw.extproc.pii.PiiPolicy tenant =
        policy.pii().forExchange("research", null).orElseThrow();
    assertThat(tenant.restore()).isFalse();
    assertThat(tenant.onError()).isEqualTo(dev.llmgw.extproc.pii.PiiPolicy.OnError.ALLOW);
    assertThat(tenant.responseScan()).isEqualTo(dev.llmgw.extproc.pii.PiiPolicy.ResponseScan.MASK);
    assertThat(tenant.blockStatus()).isEqualTo(403);
    assertThat(FeedPolicy.convert(Policy.newBuilder().setVersion("1").build())
            .pii()
            .isEmpty())
        .isTrue();
  }

  @Test
  void convertsLimitsAndOperatorPricesFromTheFeed() {
    Policy feed = Policy.newBuilder()
        .setVersion("10")
        .setLimits(dev.llmgw.proto.policy.v1.Limits.newBuilder()
            .addBudgets(dev.llmgw.proto.policy.v1.Budget.newBuilder()
                .setScope(dev.llmgw.proto.policy.v1.LimitScope.LIMIT_SCOPE_TENANT)
                .setId("acme")
                .setPeriod(dev.llmgw.proto.policy.v1.BudgetPeriod.BUDGET_PERIOD_MONTHLY)
                .setLimitUsd("500.00")
                .addAlertThresholds("0.8"))
            .addRates(dev.llmgw.proto.policy.v1.RateLimit.newBuilder()
                .setScope(dev.llmgw.proto.policy.v1.LimitScope.LIMIT_SCOPE_API_KEY)
                .setId("*")
                .setRequestsPerMinute(600)))
        .setPrices(dev.llmgw.proto.policy.v1.PriceList.newBuilder()
            .setVersion("cp-3")
            .putModels(
                "gpt-4o",
                dev.llmgw.proto.policy.v1.Price.newBuilder()
                    .setInput("2.00")
                    .setOutput("8.00")
                    .setSource("contract")
                    .setAsOf("2026-11-01")
                    .build())
            .putModels(
                "claude-haiku-4-5",
                dev.llmgw.proto.policy.v1.Price.newBuilder()
                    .setInput("0.90")
                    .setCacheWrite("1.10")
                    .setCacheWrite1H("1.80")
                    .setOutput("4.50")
                    .setSource("contract")
                    .setAsOf("2026-11-01")
                    .build()))
        .build();
    GatewayPolicy policy = FeedPolicy.convert(feed);
    assertThat(policy.limits().budgets()).singleElement().satisfies(b -> {
      assertThat(b.id()).isEqualTo("acme");
      assertThat(b.limitUsd()).isEqualByComparingTo("500");
      assertThat(b.period()).isEqualTo(dev.llmgw.extproc.limits.Period.MONTHLY);
    });
    assertThat(policy.limits().rates())
        .singleElement()
        .satisfies(r -> assertThat(r.requestsPerMinute()).isEqualTo(600));
    assertThat(policy.prices().find("gpt-4o").orElseThrow().input()).isEqualByComparingTo("2.00");
    assertThat(policy.prices().version()).endsWith("+cp-3");
    assertThat(policy.prices().find("claude-haiku-4-5").orElseThrow().cacheWrite1h())
        .isEqualByComparingTo("1.80");
    assertThat(policy.prices().find("gpt-4o-mini"))
        .as("the built-in catalog stays underneath")
        .isPresent();
  }

  @Test
  void versionsOnlyMoveForwardAndTheSameVersionAgainIsIgnored() throws Exception {
    PolicyStore store = new PolicyStore(GatewayPolicy.passThrough());
    PolicyFeedClient client = connect(store);

    client.apply(policy("5", "anthropic"));
    client.apply(policy("4", "openai"));
    assertThat(store.current().version()).isEqualTo("feed-5");
    assertThat(store.current().resolve(null, "fast"))
        .contains(new ModelTarget("anthropic", "gpt-4o-mini"));
    assertThat(loads("rejected")).as("an older version is rejected").isEqualTo(1);

    client.apply(policy("5", "openai"));
    assertThat(store.current().resolve(null, "fast"))
        .as("the version applied, sent again on a reconnect, is not applied twice")
        .contains(new ModelTarget("anthropic", "gpt-4o-mini"));
    assertThat(loads("rejected")).isEqualTo(1);
    assertThat(loads("applied")).isEqualTo(1);

    client.apply(policy("v6", "openai"));
    assertThat(loads("rejected")).as("a version that is not a number").isEqualTo(2);
    client.apply(policy("6", "openai"));
    assertThat(client.appliedVersion()).isEqualTo("6");
  }

  @Test
  void aFeedValueThatIsNotValidIsRejectedNamingItsField() {
    Policy.Builder base = policy("11", "openai").toBuilder();
    Policy noScope = base.clone()
        .setLimits(dev.llmgw.proto.policy.v1.Limits.newBuilder()
            .addBudgets(dev.llmgw.proto.policy.v1.Budget.newBuilder()
                .setId("acme")
                .setPeriod(dev.llmgw.proto.policy.v1.BudgetPeriod.BUDGET_PERIOD_DAILY)
                .setLimitUsd("5")))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedPolicy.convert(noScope))
        .hasMessage(
            "limits.budgets[0].scope: LIMIT_SCOPE_UNSPECIFIED (expected: api_key, tenant or route)");

    Policy badAmount = base.clone()
        .setLimits(dev.llmgw.proto.policy.v1.Limits.newBuilder()
            .addBudgets(dev.llmgw.proto.policy.v1.Budget.newBuilder()
                .setScope(dev.llmgw.proto.policy.v1.LimitScope.LIMIT_SCOPE_TENANT)
                .setId("acme")
                .setPeriod(dev.llmgw.proto.policy.v1.BudgetPeriod.BUDGET_PERIOD_DAILY)
                .setLimitUsd("-1")))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedPolicy.convert(badAmount))
        .hasMessageStartingWith("limits.budgets[0].limit_usd: -1 (expected: a dollar amount >= 0");

    Policy badRate = base.clone()
        .setPrices(dev.llmgw.proto.policy.v1.PriceList.newBuilder()
            .putModels(
                "gpt-4o",
                dev.llmgw.proto.policy.v1.Price.newBuilder()
                    .setInput("2.00")
                    .setOutput("eight")
                    .setSource("contract")
                    .setAsOf("2026-11-01")
                    .build()))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedPolicy.convert(badRate))
        .hasMessage(
            "prices.models.gpt-4o.output: 'eight' (expected: a decimal number such as \"12.50\")");

    Policy noSource = base.clone()
        .setPrices(dev.llmgw.proto.policy.v1.PriceList.newBuilder()
            .putModels(
                "gpt-4o",
                dev.llmgw.proto.policy.v1.Price.newBuilder()
                    .setInput("2.00")
                    .setAsOf("2026-11-01")
                    .build()))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FeedPolicy.convert(noSource))
        .hasMessageStartingWith("prices.models.gpt-4o.source: ''");
  }

  private double loads(String result) {
    io.micrometer.core.instrument.Counter c = registry
        .find(ExtProcMetrics.POLICY_LOADS)
        .tag(ExtProcMetrics.TAG_RESULT, result)
        .counter();
    return c == null ? 0 : c.count();
  }
}
