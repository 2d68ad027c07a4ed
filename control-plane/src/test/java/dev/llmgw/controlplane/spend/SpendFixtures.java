package dev.llmgw.controlplane.spend;

import dev.llmgw.proto.spend.v1.SpendRecord;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.IntStream;

/** Spend records for tests: valid unless a test changes a field. */
public final class SpendFixtures {

  /** Noon UTC on the fixtures' "today". */
  public static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

  public static final LocalDate TODAY = LocalDate.of(2026, 11, 22);

  private SpendFixtures() {}

  /** A record of {@code cost} dollars on {@code day} (at noon UTC) for tenant/key/model, 10 in and 20 out. */
  public static SpendRecord.Builder record(
      String id, LocalDate day, String tenant, String key, String model, String cost) {
    return SpendRecord.newBuilder()
        .setId(id)
        .setAtEpochMillis(day.atTime(12, 0).toInstant(ZoneOffset.UTC).toEpochMilli())
        .setTenant(tenant)
        .setApiKeyId(key)
        .setApplication("app")
        .setUser("user")
        .setRoute("chat")
        .setProvider("openai")
        .setRequestedModel("fast")
        .setModel(model)
        .setInputTokens(10)
        .setCachedInputTokens(1)
        .setCacheWriteTokens(2)
        .setOutputTokens(20)
        .setReasoningTokens(3)
        .setCostUsd(cost)
        .setPriceVersion("2026-11-22.1");
  }

  public static Spend spend(
      String id, LocalDate day, String tenant, String key, String model, String cost) {
    return Spend.from(record(id, day, tenant, key, model, cost).build(), "");
  }

  public static Spend spend(String id, String cost) {
    return spend(id, TODAY, "acme", "key-1", "gpt-4o", cost);
  }

  /** {@code n} records {@code prefix-0..n-1} of {@code cost} each, today, acme / key-1 / gpt-4o. */
  public static List<Spend> batch(String prefix, int n, String cost) {
    return IntStream.range(0, n).mapToObj(i -> spend(prefix + "-" + i, cost)).toList();
  }

  /** A clock a test moves by hand. */
  public static final class MutableClock extends Clock {
    private volatile Instant now;

    public MutableClock(Instant now) {
      this.now = now;
    }

    public void set(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
