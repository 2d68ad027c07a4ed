package dev.llmgw.extproc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.llmgw.extproc.driver.DownstreamRequest;
import dev.llmgw.extproc.driver.Upstream;
import dev.llmgw.extproc.driver.UpstreamResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The exchanges {@link ExchangeBenchmark} runs: what an SDK sends (a support conversation of about
 * 2 KB with an e-mail address twice and a phone number once) and what the provider answers (a JSON
 * completion of about 1 KB, or about 200 SSE delta events), with the usage the provider reports.
 * The provider's answer repeats the e-mail address and the phone number as it received them, so
 * with masking on it repeats the placeholders and the gateway has to restore them.
 */
final class BenchExchanges {

  static final String EMAIL = "jane.roe@example.com";
  static final String PHONE = "+44 20 7946 0958";
  static final String EMAIL_PLACEHOLDER = "<EMAIL_1>";
  static final String PHONE_PLACEHOLDER = "<PHONE_1>";
  /** What the SDK sends as its key; the policy attributes spend to its fingerprint. */
  static final String API_KEY = "sk-bench-4f1c2a9e7d3b";

  static final String TENANT = "acme";

  /** Provider-reported usage; the prompt figure is close to what the gateway counts for these bodies. */
  static final int PROMPT_TOKENS = 468;

  static final int COMPLETION_TOKENS = 231;
  static final int DELTA_EVENTS = 200;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String SYSTEM =
      "You are the customer-support assistant of Northwind Books, an online bookshop "
          + "that ships to 14 countries. Answer in the customer's language, be brief and friendly, and never promise a "
          + "refund above EUR 200 without opening a ticket first. Orders ship within 2 working days; tracking numbers "
          + "start with NW and have 10 digits. Opening hours are 08:00 to 18:00 CET, Monday to Friday.";
  private static final String USER_1 =
      "Hi, I ordered three books on 12 March (order 48213) and paid 57.90 EUR, but "
          + "the parcel still has not arrived. The tracking page has shown 'in transit' for nine days now, which seems "
          + "far too long for a delivery inside the EU. Could you check what happened? You can reach me at "
          + EMAIL
          + " or on " + PHONE + " in the afternoon.";
  private static final String ASSISTANT_1 =
      "I am sorry to hear that. I can see that order 48213 left our warehouse "
          + "on 13 March with tracking number NW40117733. Let me check with the carrier; could you confirm that the "
          + "delivery address is still the one in your account, and whether a neighbour might have taken the parcel?";
  private static final String USER_2 =
      "Yes, the address is unchanged and none of my neighbours has it. If the parcel "
          + "is lost, I would prefer a replacement over a refund, because one of the books is a birthday present for "
          + "next Saturday. Please also send the confirmation to the same address, " + EMAIL
          + ", so that I have it in "
          + "writing. One more question: do you still offer gift wrapping for the replacement, and would express "
          + "shipping get it here before Saturday? I am happy to pay the difference of up to 10 EUR for that.";

  /** The model's answer; {@code {EMAIL}} and {@code {PHONE}} stand for whatever the provider received. */
  private static final String ANSWER =
      "Thank you for confirming. The carrier reports that the parcel was damaged in "
          + "its hub and cannot be delivered, so I have arranged a replacement of all three books at no cost to you. "
          + "It will leave our warehouse today by express shipping, gift-wrapped as you asked, and should reach you on "
          + "Friday. You will receive the written confirmation at {EMAIL} within the hour, together with the new "
          + "tracking number. If anything goes wrong, our courier partner may call you on {PHONE} before delivery. "
          + "The express surcharge is waived as an apology for the delay. Is there anything else I can help you with?";

  /** The streamed answer: longer, so that it takes {@link #DELTA_EVENTS} deltas of one word each. */
  private static final String LONG_ANSWER =
      ANSWER + " In the meantime, here is what happens next: the original "
          + "parcel will be returned to us by the carrier, and once it arrives we close the claim on our side, so you "
          + "do not need to do anything. Should the original parcel reach you after all, you may keep it or send it "
          + "back with the prepaid label in the box, whichever you prefer. We will write to {EMAIL} once more when the "
          + "claim is closed. Thank you for your patience, and I hope the birthday present is a success.";

  private BenchExchanges() {}

  /** Which API an exchange speaks and how the answer comes back. */
  enum Kind {
    OPENAI_JSON("openai-json", "/v1/chat/completions", "fast", "gpt-4o-mini"),
    OPENAI_SSE("openai-sse", "/v1/chat/completions", "fast", "gpt-4o-mini"),
    ANTHROPIC_SSE("anthropic-sse", "/v1/messages", "claude", "claude-sonnet-4-5");

    final String param;
    final String path;
    final String alias;
    final String model;

    Kind(String param, String path, String alias, String model) {
      this.param = param;
      this.path = path;
      this.alias = alias;
      this.model = model;
    }

    static Kind of(String param) {
      for (Kind k : values()) {
        if (k.param.equals(param)) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "exchange: " + param + " (expected: openai-json, openai-sse or anthropic-sse)");
    }

    boolean streaming() {
      return this != OPENAI_JSON;
    }
  }

  /** The request as the SDK sends it, asking for {@code model} (the policy's alias, or the provider's name). */
  static DownstreamRequest request(Kind kind, String model) {
    byte[] body = requestBody(kind, model).getBytes(StandardCharsets.UTF_8);
    DownstreamRequest.Builder b = DownstreamRequest.builder()
        .method("POST")
        .path(kind.path)
        .header("content-type", "application/json")
        .header("content-length", Integer.toString(body.length))
        .header("accept", kind.streaming() ? "text/event-stream" : "application/json")
        .header(
            "user-agent", kind == Kind.ANTHROPIC_SSE ? "Anthropic/Java 2.9.0" : "OpenAI/Java 4.8.0")
        .header("x-stainless-lang", "java")
        .header("x-stainless-os", "Linux")
        .header("x-stainless-arch", "x64")
        .header("x-stainless-runtime", "JRE")
        .header("x-stainless-runtime-version", "17.0.15")
        .header("x-stainless-retry-count", "0")
        .header("x-request-id", "5d0c5b1e-7f4e-4e63-9b0a-2f7c1d9a8e41")
        .header("x-forwarded-proto", "https")
        .header("x-llmgw-tenant", TENANT)
        .header("x-llmgw-api-key", API_KEY);
    if (kind == Kind.ANTHROPIC_SSE) {
      b.header("anthropic-version", "2023-06-01");
    }
    return b.chunk(ByteString.copyFrom(body)).build();
  }

  static String requestBody(Kind kind, String model) {
    StringBuilder b = new StringBuilder(2300).append("{\"model\":").append(quote(model));
    if (kind == Kind.ANTHROPIC_SSE) {
      b.append(",\"max_tokens\":1024,\"stream\":true,\"system\":")
          .append(quote(SYSTEM))
          .append(",\"messages\":[");
    } else {
      b.append(",\"temperature\":0.2,\"max_tokens\":1024");
      if (kind.streaming()) {
        b.append(",\"stream\":true,\"stream_options\":{\"include_usage\":true}");
      }
      b.append(",\"messages\":[{\"role\":\"system\",\"content\":")
          .append(quote(SYSTEM))
          .append("},");
    }
    b.append("{\"role\":\"user\",\"content\":")
        .append(quote(USER_1))
        .append("},")
        .append("{\"role\":\"assistant\",\"content\":")
        .append(quote(ASSISTANT_1))
        .append("},")
        .append("{\"role\":\"user\",\"content\":")
        .append(quote(USER_2))
        .append("}]}");
    return b.toString();
  }

  /**
   * The provider: answers with the e-mail address and phone number as they reached it, the
   * placeholders when the gateway masked them, the original values otherwise.
   */
  static Upstream provider(Kind kind, String servedModel) {
    return request -> {
      String sent = request.bodyUtf8();
      boolean masked = sent.contains(EMAIL_PLACEHOLDER);
      String email = masked ? EMAIL_PLACEHOLDER : EMAIL;
      String phone = masked ? PHONE_PLACEHOLDER : PHONE;
      return switch (kind) {
        case OPENAI_JSON ->
          UpstreamResponse.ok(
              "application/json", openAiJson(fill(ANSWER, email, phone), servedModel));
        case OPENAI_SSE -> sse(openAiEvents(words(LONG_ANSWER, email, phone), servedModel));
        case ANTHROPIC_SSE -> sse(anthropicEvents(words(LONG_ANSWER, email, phone), servedModel));
      };
    };
  }

  /** The text the client must read in the answer: the model's, with the original values. */
  static String expectedAnswer(Kind kind) {
    if (!kind.streaming()) {
      return fill(ANSWER, EMAIL, PHONE);
    }
    return String.join("", words(LONG_ANSWER, EMAIL, PHONE));
  }

  /** The answer's text as a client reads it: the message content, or every delta's text in order. */
  static String answerText(Kind kind, String clientBody) {
    try {
      if (!kind.streaming()) {
        return JSON.readTree(clientBody).at("/choices/0/message/content").asText();
      }
      StringBuilder text = new StringBuilder();
      for (String line : clientBody.split("\n")) {
        if (!line.startsWith("data: {")) {
          continue;
        }
        JsonNode data = JSON.readTree(line.substring("data: ".length()));
        JsonNode piece = kind == Kind.ANTHROPIC_SSE
            ? data.at("/delta/text")
            : data.at("/choices/0/delta/content");
        if (piece.isTextual()) {
          text.append(piece.asText());
        }
      }
      return text.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "the client's answer is not what a provider sends: " + e.getMessage(), e);
    }
  }

  private static String fill(String template, String email, String phone) {
    return template.replace("{EMAIL}", email).replace("{PHONE}", phone);
  }

  /**
   * The answer cut into exactly {@link #DELTA_EVENTS} pieces of one word each (with its leading
   * space), the first e-mail address cut in the middle over two pieces, as tokenizers cut
   * placeholders. The cut is made on the template, so the pieces line up whatever fills it.
   */
  private static List<String> words(String template, String email, String phone) {
    List<String> pieces = new ArrayList<>();
    String[] words = template.split(" ");
    boolean cut = false;
    for (int i = 0; i < words.length; i++) {
      String w = (i == 0 ? "" : " ") + words[i];
      int at = w.indexOf("{EMAIL}");
      if (!cut && at >= 0) {
        pieces.add(w.substring(0, at) + "{EMAIL_HEAD}");
        pieces.add("{EMAIL_TAIL}" + w.substring(at + "{EMAIL}".length()));
        cut = true;
      } else {
        pieces.add(w);
      }
    }
    // Pad with the answer's first words again (a longer answer) or merge the tail so the count is
    // exact.
    for (int n = 0; pieces.size() < DELTA_EVENTS; n++) {
      pieces.add(" " + words[n]);
    }
    while (pieces.size() > DELTA_EVENTS) {
      String last = pieces.remove(pieces.size() - 1);
      pieces.set(pieces.size() - 1, pieces.get(pieces.size() - 1) + last);
    }
    int middle = email.length() / 2;
    List<String> filled = new ArrayList<>(pieces.size());
    for (String p : pieces) {
      filled.add(fill(
          p.replace("{EMAIL_HEAD}", email.substring(0, middle))
              .replace("{EMAIL_TAIL}", email.substring(middle)),
          email,
          phone));
    }
    return filled;
  }

  private static String openAiJson(String answer, String servedModel) {
    return "{\"id\":\"chatcmpl-BENCH0001\",\"object\":\"chat.completion\",\"created\":1732000000,\"model\":"
        + quote(servedModel)
        + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        + quote(answer)
        + ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":" + PROMPT_TOKENS + ",\"completion_tokens\":"
        + COMPLETION_TOKENS
        + ",\"total_tokens\":" + (PROMPT_TOKENS + COMPLETION_TOKENS)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":0,"
        + "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
        + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\","
        + "\"system_fingerprint\":\"fp_0ba0d124f1\"}";
  }

  /** One event per network read, as a provider streams tokens: role chunk, deltas, finish, usage, [DONE]. */
  private static List<String> openAiEvents(List<String> pieces, String servedModel) {
    String head =
        "data: {\"id\":\"chatcmpl-BENCH0002\",\"object\":\"chat.completion.chunk\",\"created\":1732000000,"
            + "\"model\":" + quote(servedModel)
            + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_0ba0d124f1\","
            + "\"choices\":";
    List<String> events = new ArrayList<>();
    events.add(
        head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
            + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
    for (String p : pieces) {
      events.add(head + "[{\"index\":0,\"delta\":{\"content\":" + quote(p) + "},\"logprobs\":null,"
          + "\"finish_reason\":null}],\"usage\":null}\n\n");
    }
    events.add(
        head
            + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
    events.add(head + "[],\"usage\":{\"prompt_tokens\":" + PROMPT_TOKENS + ",\"completion_tokens\":"
        + COMPLETION_TOKENS + ",\"total_tokens\":" + (PROMPT_TOKENS + COMPLETION_TOKENS)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":"
        + "{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
        + "\"rejected_prediction_tokens\":0}}}\n\n");
    events.add("data: [DONE]\n\n");
    return events;
  }

  private static List<String> anthropicEvents(List<String> pieces, String servedModel) {
    List<String> events = new ArrayList<>();
    events.add(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01BENCH\","
            + "\"type\":\"message\",\"role\":\"assistant\",\"model\":" + quote(servedModel)
            + ",\"content\":[],"
            + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
            + PROMPT_TOKENS
            + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1,"
            + "\"service_tier\":\"standard\"}}}\n\n");
    events.add("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    events.add("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    for (String p : pieces) {
      events.add("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
          + "\"delta\":{\"type\":\"text_delta\",\"text\":" + quote(p) + "}}\n\n");
    }
    events.add(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
    events.add(
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
            + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + COMPLETION_TOKENS
            + "}}\n\n");
    events.add("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    return events;
  }

  private static UpstreamResponse sse(List<String> events) {
    UpstreamResponse.Builder b = UpstreamResponse.builder(200)
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache");
    for (String e : events) {
      b.chunk(e);
    }
    return b.build();
  }

  private static String quote(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
