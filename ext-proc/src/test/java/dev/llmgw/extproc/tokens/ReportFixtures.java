package dev.llmgw.extproc.tokens;

import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.api.SseParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@link TokenReport}s built the way the data path builds them: a provider response body (JSON or SSE)
 * read by {@link UsageReader}, which is package-private. For capabilities downstream of token counting
 * (cost, budgets) whose tests start from real response bodies.
 */
public final class ReportFixtures {

  private ReportFixtures() {}

  /**
   * The report of a complete, successful exchange whose response was the classpath resource
   * {@code resource}: a JSON body, or an SSE stream when its name ends in {@code .sse}.
   *
   * @param promptCounted the gateway's count of the prompt on the request path
   */
  public static TokenReport fromResponse(
      LlmApi api, String model, Tokenizer tokenizer, int promptCounted, String resource) {
    UsageReader reader = new UsageReader(api, tokenizer);
    byte[] body = bytes(resource);
    if (resource.endsWith(".sse")) {
      for (SseEvent e :
          new SseParser(1 << 20).feed(com.google.protobuf.ByteString.copyFrom(body))) {
        reader.event(e);
      }
    } else {
      reader.body(body);
    }
    return new TokenReport(
        model,
        tokenizer,
        promptCounted,
        !tokenizer.isEstimate(),
        -1,
        reader.usage(),
        reader.completionCounted(),
        200,
        true);
  }

  private static byte[] bytes(String resource) {
    try (InputStream in = ReportFixtures.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException(
            "resource: " + resource + " (expected: on the test classpath)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
