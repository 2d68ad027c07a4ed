package dev.llmgw.controlplane.spend;

import static dev.llmgw.controlplane.spend.SpendFixtures.TODAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgw.proto.spend.v1.SpendRecord;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpendTest {

  private static SpendRecord.Builder valid() {
    return SpendFixtures.record("id-1", TODAY, "acme", "key-1", "gpt-4o", "0.001234");
  }

  private static InvalidSpendException invalid(UnaryOperator<SpendRecord.Builder> change) {
    return catchThrowableOfType(
        InvalidSpendException.class,
        () -> Spend.from(change.apply(valid()).build(), "records[2]."));
  }

  @Test
  void aValidRecordRoundTripsThroughTheWireFormat() {
    SpendRecord r = valid().setEstimated(true).build();
    Spend s = Spend.from(r, "");

    assertThat(s.toProto()).isEqualTo(r);
    assertThat(s.costUsd()).isEqualByComparingTo("0.001234");
    assertThat(s.day()).isEqualTo(TODAY);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "0.5", "12.000000000000", "999999999999.999999999999999999"})
  void plainDecimalCostsAreAccepted(String cost) {
    assertThat(Spend.from(valid().setCostUsd(cost).build(), "").costUsd().toPlainString())
        .isEqualTo(cost);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "-1",
        "+1",
        ".5",
        "5.",
        "1e-3",
        "1E+1000000",
        "1,5",
        " 1",
        "NaN",
        "1.2.3",
        "1000000000000",
        "0.0000000000000000001"
      })
  void costsThatAreNotPlainBoundedDecimalsAreRefused(String cost) {
    InvalidSpendException e = invalid(b -> b.setCostUsd(cost));

    assertThat(e.field()).isEqualTo("records[2].cost_usd");
    assertThat(e)
        .hasMessageStartingWith(
            "records[2].cost_usd: '" + cost + "' (expected: a non-negative plain decimal");
  }

  @Test
  void otherFieldsSayWhatWasExpected() {
    assertThat(invalid(b -> b.setId("")))
        .hasMessageStartingWith("records[2].id: '' (expected: 1..128 characters");
    assertThat(invalid(b -> b.setId("x".repeat(129))).field()).isEqualTo("records[2].id");
    assertThat(invalid(b -> b.setAtEpochMillis(0)))
        .hasMessage(
            "records[2].at_epoch_millis: 0 (expected: > 0, milliseconds since the Unix epoch)");
    assertThat(invalid(b -> b.setOutputTokens(-1)))
        .hasMessage("records[2].output_tokens: -1 (expected: >= 0)");
    assertThat(invalid(b -> b.setTenant("t".repeat(300))))
        .hasMessageEndingWith("is 300 characters (expected: at most 256)")
        .extracting(InvalidSpendException::field)
        .isEqualTo("records[2].tenant");
  }
}
