package dev.llmgw.extproc.spend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.llmgw.extproc.cost.CostTagging;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import dev.llmgw.extproc.policy.PolicyLoader;
import dev.llmgw.extproc.server.GatewayExchange;
import dev.llmgw.extproc.server.Identity;
import dev.llmgw.extproc.server.ServedBy;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.proto.spend.v1.SpendAck;
import dev.llmgw.proto.spend.v1.SpendBatch;
import dev.llmgw.proto.spend.v1.SpendRecord;
import dev.llmgw.proto.spend.v1.SpendServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every priced exchange reaches the control plane's ledger as one record, off the request path. */
class SpendThroughGatewayTest {

  @TempDir
  Path spool;

  @Test
  void aPricedExchangeBecomesOneLedgerRecordWithItsAttribution() throws Exception {
    List<SpendRecord> ledger = new CopyOnWriteArrayList<>();
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name)
        .addService(new SpendServiceGrpc.SpendServiceImplBase() {
          @Override
          public void record(SpendBatch batch, StreamObserver<SpendAck> responses) {
            ledger.addAll(batch.getRecordsList());
            responses.onNext(
                SpendAck.newBuilder().setAccepted(batch.getRecordsCount()).build());
            responses.onCompleted();
          }
        })
        .build()
        .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    Clock clock = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
    try (SpendReporter reporter =
            new SpendReporter(channel, spool, new SimpleMeterRegistry(), clock);
        GatewayExchange gw = new GatewayExchange(
            PolicyLoader.parse("""
            models:
              gpt-4o: { route: openai, model: gpt-4o }
            """, "test"),
            registry -> List.of(
                TokenCounting.listener(registry),
                CostTagging.builder(registry)
                    .sink(SpendRecords.sink(reporter, clock))
                    .build()))) {
      gw.exchange(
          GatewayExchange.post(
                  "/v1/chat/completions",
                  // A long system message: the usage below (1,200 prompt tokens) must fit the
                  // prompt.
                  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\""
                      + "Clause 12: the contract renews each year on 1 March. ".repeat(100)
                      + "\"},{\"role\":\"user\",\"content\":\"hi\"}]}")
              .header("x-llmgw-tenant", "acme")
              .header("x-llmgw-api-key", "sk-live-1")
              .header("x-llmgw-user", "u7")
              .build(),
          Upstream.returning(UpstreamResponse.builder(200)
              .header("content-type", "application/json")
              .chunk(
                  "{\"model\":\"gpt-4o-2024-08-06\",\"usage\":"
                      + "{\"prompt_tokens\":1200,\"completion_tokens\":300,\"prompt_tokens_details\":{\"cached_tokens\":1024}}}")
              // Envoy's word on which provider's host answered, behind the route "openai".
              .attribute(ServedBy.ATTRIBUTE, "openai-eu")
              .build()));

      await().atMost(Duration.ofSeconds(10)).until(() -> ledger.size() == 1);
      SpendRecord r = ledger.get(0);
      assertThat(r.getId()).isNotEmpty();
      assertThat(r.getAtEpochMillis()).isEqualTo(clock.millis());
      assertThat(r.getTenant()).isEqualTo("acme");
      assertThat(r.getApiKeyId())
          .isEqualTo(Identity.fingerprint("sk-live-1"))
          .doesNotContain("sk-live-1");
      assertThat(r.getUser()).isEqualTo("u7");
      assertThat(r.getRequestedModel()).isEqualTo("gpt-4o");
      assertThat(r.getModel()).isEqualTo("gpt-4o");
      assertThat(r.getRoute()).isEqualTo("openai");
      assertThat(r.getProvider()).isEqualTo("openai-eu");
      assertThat(r.getInputTokens()).isEqualTo(176);
      assertThat(r.getCachedInputTokens()).isEqualTo(1024);
      assertThat(r.getOutputTokens()).isEqualTo(300);
      assertThat(new java.math.BigDecimal(r.getCostUsd())).isEqualByComparingTo("0.00472");
      assertThat(r.getEstimated()).isFalse();
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
