package dev.llmgw.extproc.pii;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextRestorerTest {

  private static Vault vault() {
    Vault v = new Vault(
        "the client wrote <EMAIL_1> literally".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(v.mask(EntityType.EMAIL, "a@b.example"))
        .as("numbers skip what the request contains")
        .isEqualTo("<EMAIL_2>");
    assertThat(v.mask(EntityType.PHONE, "+1 415 555 0132")).isEqualTo("<PHONE_1>");
    assertThat(v.mask(EntityType.EMAIL, "a@b.example")).isEqualTo("<EMAIL_2>");
    return v;
  }

  @Test
  void restoresAPlaceholderCutAtEveryPositionOfEveryPiece() {
    Vault v = vault();
    String text = "x <EMAIL_2> y <PHONE_1><EMAIL_1> <b> 1<2 <EMAIL_2";
    String expected = "x a@b.example y +1 415 555 0132<EMAIL_1> <b> 1<2 <EMAIL_2";
    for (int i = 0; i <= text.length(); i++) {
      for (int j = i; j <= text.length(); j++) {
        TextRestorer r = new TextRestorer(v, false);
        String out = r.push(text.substring(0, i))
            + r.push(text.substring(i, j))
            + r.push(text.substring(j))
            + r.flush();
        assertThat(out).as("cuts %d, %d", i, j).isEqualTo(expected);
      }
    }
  }

  @Test
  void holdsOnlyWhatCanStillBecomeAPlaceholder() {
    TextRestorer r = new TextRestorer(vault(), false);
    assertThat(r.push("see <PH")).isEqualTo("see ");
    assertThat(r.holding()).isTrue();
    assertThat(r.push("ONE_1> and <b")).isEqualTo("+1 415 555 0132 and <b");
    assertThat(r.holding()).as("'<b' starts no placeholder").isFalse();
    assertThat(r.push("<EMAIL_")).isEmpty();
    assertThat(r.push("9")).as("<EMAIL_9 is no placeholder of this exchange").isEqualTo("<EMAIL_9");
    assertThat(r.restored()).isEqualTo(1);
  }

  @Test
  void jsonFragmentsGetEscapedValues() {
    Vault v = Vault.empty();
    v.mask(EntityType.SECRET, "a\"b\\c");
    TextRestorer r = new TextRestorer(v, true);
    assertThat(r.push("{\"k\":\"<SECRET_1>\"}")).isEqualTo("{\"k\":\"a\\\"b\\\\c\"}");
  }
}
