package dev.llmgw.extproc.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.tokens.TokenCounting;
import dev.llmgw.extproc.tokens.Tokenizer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Counting a 2 KB and a 32 KB chat request body on the request path, against a baseline measured in
 * the same run: jtokkit alone counting the same message texts (no JSON, no chat format). The ratio
 * chat/raw is the price of parsing the body and applying the format rules. Not run by the build;
 * see docs/benchmarks.md for the command.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 5) // o200k_base needs several seconds of JIT to settle
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenCountingBenchmark {

  /** Body size of the chat request, in KiB. */
  @Param({"2", "32"})
  public int kib;

  @Param({"o200k_base", "cl100k_base"})
  public String encoding;

  private TokenCounting counting;
  private String model;
  private byte[] body;
  private List<String> texts;
  private Tokenizer tokenizer;

  @Setup
  public void setUp() throws Exception {
    counting = TokenCounting.listener(new SimpleMeterRegistry());
    model = encoding.equals("o200k_base") ? "gpt-4o" : "gpt-4";
    tokenizer = encoding.equals("o200k_base") ? Tokenizer.O200K_BASE : Tokenizer.CL100K_BASE;
    ObjectMapper json = new ObjectMapper();
    ObjectNode request = json.createObjectNode().put("model", model).put("max_tokens", 512);
    ArrayNode messages = request.putArray("messages");
    texts = new ArrayList<>();
    add(
        messages,
        "system",
        "You are a careful assistant for an engineering team. Answer briefly; quote code exactly.");
    for (int turn = 0; ; turn++) {
      add(messages, turn % 2 == 0 ? "user" : "assistant", TURNS[turn % TURNS.length]);
      if (json.writeValueAsBytes(request).length > kib * 1024) {
        messages.remove(messages.size() - 1); // the largest body that fits in kib KiB
        texts.subList(texts.size() - 2, texts.size()).clear();
        break;
      }
    }
    body = json.writeValueAsBytes(request);
    if (counting.countPrompt(LlmApi.OPENAI_CHAT_COMPLETIONS, model, body).tokens() <= 0) {
      throw new IllegalStateException("benchmark body counted no tokens");
    }
  }

  private void add(ArrayNode messages, String role, String content) {
    messages.addObject().put("role", role).put("content", content);
    texts.add(role);
    texts.add(content);
  }

  /** Baseline: jtokkit counting the same texts, already extracted. */
  @Benchmark
  public int rawEncode() {
    int n = 0;
    for (String text : texts) {
      n += tokenizer.count(text);
    }
    return n;
  }

  /** What the request path does: parse the body once, count every part, apply the chat format. */
  @Benchmark
  public int chatPrompt() {
    return counting.countPrompt(LlmApi.OPENAI_CHAT_COMPLETIONS, model, body).tokens();
  }

  private static final String[] TURNS = {
    "Our ext_proc service times out under load. The p99 of request_body is 40 ms. What should we check first?",
    "Check whether the stream thread blocks: ext_proc messages of one stream are handled in order, so any blocking "
        + "call (DNS, disk, a lock) adds to every later phase. Then look at GC pauses and at body sizes.",
    "Here is the handler:\n```java\nfor (ExchangeListener l : listeners) {\n  Observer o = l.open(context);\n"
        + "  observers.add(o);\n  o.onRequestBody(forwarded);\n}\n```\nAnything wrong?",
    "The loop is fine. If a listener throws, the observers already opened still get onEnd(), which is what you want.",
    "Kunden aus München und Zürich melden 502-Fehler. Die Logs zeigen „upstream connect error“. Was bedeutet das?",
    "Envoy konnte keine Verbindung zum Upstream aufbauen: prüfen Sie DNS, TLS-SNI und die Outlier-Detection des Clusters.",
    "東京リージョンのレイテンシが高いです。原因は何でしょうか？",
    "TLS ハンドシェイクと DNS 解決の時間を確認してください。接続の再利用も重要です。",
    "Summarize the incident in three bullet points with emoji status markers ✅ ⚠️ ❌.",
    "✅ Root cause found: blocking DNS in a listener.\n⚠️ Mitigation: async resolver.\n❌ Still open: load test.",
  };
}
