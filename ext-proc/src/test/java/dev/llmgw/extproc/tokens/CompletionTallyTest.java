package dev.llmgw.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Streamed text is counted in bounded pieces whose sum equals the count of the whole text. */
class CompletionTallyTest {

  /** Mixed scripts, emoji, code, numbers, contractions, runs of spaces and newlines. */
  private static final String SAMPLE = """
      Hello, world! It's 2025-11-24 and we've counted 1234567 tokens.   Grüße aus Köln 👋🏽 — naïve café.
      東京の天気は晴れです。人工智能正在改变世界。 مرحبا بالعالم  नमस्ते दुनिया
      def f(x):\n    return {"k": [1, 2, 3], 'v': x ** 2}  # comment
      /usr/local/bin/envoy --config-path /etc/envoy.yaml
          indented line\twith\ttabs
      ❤️‍🔥 👩‍👩‍👧‍👦 🇩🇪 1️⃣ ... ?!? ¿Qué tal? «ça va» "quotes" 'single'
      """;

  @Test
  void streamedTextCountsExactlyAsTheWholeTextWhateverTheDeltaBoundaries() {
    String text = SAMPLE.repeat(40); // ~12 KB: several flushes
    for (Tokenizer tokenizer : new Tokenizer[] {Tokenizer.O200K_BASE, Tokenizer.CL100K_BASE}) {
      int whole = tokenizer.count(text);
      Random random = new Random(42);
      for (int run = 0; run < 5; run++) {
        CompletionTally tally = new CompletionTally(tokenizer);
        int i = 0;
        while (i < text.length()) {
          int end = Math.min(text.length(), i + 1 + random.nextInt(12));
          if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end++; // providers never split a code point
          }
          tally.add(0, text.substring(i, end));
          i = end;
        }
        assertThat(tally.total()).as("%s run %d", tokenizer, run).isEqualTo(whole);
        assertThat(tally.approximate()).isFalse();
      }
    }
  }

  @Test
  void everySafeCutSplitsTheTextWithoutChangingItsCount() {
    String text = SAMPLE.repeat(3);
    for (Tokenizer tokenizer : new Tokenizer[] {Tokenizer.O200K_BASE, Tokenizer.CL100K_BASE}) {
      int whole = tokenizer.count(text);
      int cuts = 0;
      for (int end = text.length(); end > 2; ) {
        int cut = CompletionTally.lastSafeCut(text.substring(0, end));
        if (cut <= 0) {
          break;
        }
        assertThat(tokenizer.count(text.substring(0, cut)) + tokenizer.count(text.substring(cut)))
            .as("%s cut at %d", tokenizer, cut)
            .isEqualTo(whole);
        cuts++;
        end = cut;
      }
      assertThat(cuts).isGreaterThan(50);
    }
  }

  @Test
  void separateTextsAreCountedSeparatelyAndStateStaysBounded() {
    CompletionTally tally = new CompletionTally(Tokenizer.O200K_BASE);
    for (int slot = 0; slot < CompletionTally.MAX_SLOTS + 5; slot++) {
      tally.add(slot, "choice " + slot);
    }

    int expected = 0;
    for (int slot = 0; slot < CompletionTally.MAX_SLOTS + 5; slot++) {
      expected += Tokenizer.O200K_BASE.count("choice " + slot);
    }
    assertThat(tally.total()).isEqualTo(expected);
    assertThat(tally.approximate())
        .as("slots beyond the cap are counted piece by piece")
        .isTrue();
  }

  @Test
  void textWithoutAnySafeCutIsFlushedAtTheHardLimitAndMarkedApproximate() {
    CompletionTally tally = new CompletionTally(Tokenizer.CL100K_BASE);
    String blob =
        "QUJD".repeat(CompletionTally.HARD_LIMIT / 4 + 10); // base64-like, no spaces or newlines

    for (int i = 0; i < blob.length(); i += 1000) {
      tally.add(0, blob.substring(i, Math.min(blob.length(), i + 1000)));
    }

    assertThat(tally.total()).isPositive();
    assertThat(tally.approximate()).isTrue();
  }

  @Test
  void estimateCountsCharactersOnceAtTheEnd() {
    CompletionTally tally = new CompletionTally(Tokenizer.ESTIMATE);
    tally.add(0, "abc");
    tally.add(0, "de");
    tally.addWhole("fg");

    assertThat(tally.total()).isEqualTo(Tokenizer.estimate(7));
    assertThat(new CompletionTally(Tokenizer.ESTIMATE).seen()).isFalse();
  }
}
