package dev.llmgw.controlplane.spend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.proto.spend.v1.SpendRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The lines of the spend journal, and the checked-line framing it shares with the totals file:
 * {@code <crc32 of the JSON, 8 lower-case hex digits> <JSON>\n}. A journal starts with the line
 * {@link #HEADER}, then a checked line {@code {"generation": n}} (journals of format 1, written
 * before compaction existed, have neither and are generation 0). Each further line is one stored
 * batch: {@code {"received_at_millis": n, "source": "...", "records": [{...}, ...]}}, where each
 * record has the field names of {@code spend.proto} ({@code cost_usd} as a string, so it stays
 * exact).
 */
final class JournalCodec {

  /** The first line of every journal written now; a generation line follows it. */
  static final String HEADER = "llmgw-spend-journal 2\n";

  static final byte[] HEADER_BYTES = HEADER.getBytes(StandardCharsets.US_ASCII);
  /** The first line of a journal written before compaction existed: no generation line, generation 0. */
  static final String HEADER_V1 = "llmgw-spend-journal 1\n";

  static final byte[] HEADER_V1_BYTES = HEADER_V1.getBytes(StandardCharsets.US_ASCII);
  private static final int CRC_CHARS = 8;
  /** Where the JSON of a checked line starts: after the checksum and a space. */
  static final int JSON_OFFSET = CRC_CHARS + 1;

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper JSON = new ObjectMapper(FACTORY);

  /** A batch as it was stored. */
  record Batch(long receivedAtMillis, String source, List<Spend> records) {}

  private JournalCodec() {}

  static byte[] line(long receivedAtMillis, String source, List<Spend> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + records.size() * 512);
    reserveChecksum(out);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("received_at_millis", receivedAtMillis);
      g.writeStringField("source", source);
      g.writeArrayFieldStart("records");
      for (Spend s : records) {
        write(g, s);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return checked(out);
  }

  /** The header of a journal of {@code generation}: the format line and the checked generation line. */
  static byte[] header(long generation) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    out.writeBytes(HEADER_BYTES);
    int lineStart = out.size();
    reserveChecksum(out);
    out.writeBytes(("{\"generation\":" + generation + "}").getBytes(StandardCharsets.US_ASCII));
    return checked(out, lineStart);
  }

  /**
   * The generation of a journal's generation line (an {@link #intact} line); throws with the reason
   * if it does not hold one.
   */
  static long generation(byte[] line, int length) {
    JsonNode root = json(line, length);
    JsonNode generation = root.get("generation");
    if (generation == null
        || !generation.isIntegralNumber()
        || !generation.canConvertToLong()
        || generation.asLong() < 0
        || root.size() != 1) {
      throw new IllegalArgumentException("expected: {\"generation\": n} with n >= 0");
    }
    return generation.asLong();
  }

  /**
   * A checked line: {@code out} holds {@value #CRC_CHARS} + 1 placeholder bytes and then JSON; the
   * checksum of the JSON goes into the placeholder and a newline after it.
   */
  static byte[] checked(ByteArrayOutputStream out) {
    return checked(out, 0);
  }

  private static byte[] checked(ByteArrayOutputStream out, int lineStart) {
    out.write('\n');
    byte[] line = out.toByteArray();
    int json = lineStart + CRC_CHARS + 1;
    CRC32 crc = new CRC32();
    crc.update(line, json, line.length - json - 1);
    byte[] hex =
        HexFormat.of().toHexDigits((int) crc.getValue()).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(hex, 0, line, lineStart, CRC_CHARS);
    line[lineStart + CRC_CHARS] = ' ';
    return line;
  }

  /** Room for the checksum at the start of a checked line; it is filled in once the JSON is known. */
  static void reserveChecksum(ByteArrayOutputStream out) {
    out.writeBytes(new byte[CRC_CHARS + 1]);
  }

  /** The JSON of an {@link #intact} line; throws with the reason if it is no JSON object. */
  static JsonNode json(byte[] line, int length) {
    JsonNode root;
    try {
      root = JSON.readTree(line, CRC_CHARS + 1, length - CRC_CHARS - 1);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    return root;
  }

  /**
   * Whether {@code line} (without its newline) is intact: a checksum, a space and JSON that
   * matches it. An intact line can still fail {@link #parse}; that is damage, not a torn write.
   */
  static boolean intact(byte[] line, int length) {
    if (length < CRC_CHARS + 3 || line[CRC_CHARS] != ' ' || line[CRC_CHARS + 1] != '{') {
      return false;
    }
    long expected;
    try {
      expected = Integer.toUnsignedLong(
          HexFormat.fromHexDigits(new String(line, 0, CRC_CHARS, StandardCharsets.US_ASCII)));
    } catch (IllegalArgumentException e) {
      return false;
    }
    CRC32 crc = new CRC32();
    crc.update(line, CRC_CHARS + 1, length - CRC_CHARS - 1);
    return crc.getValue() == expected;
  }

  /** The batch of an {@link #intact} line; throws with the reason if it does not hold one. */
  static Batch parse(byte[] line, int length) {
    JsonNode root = json(line, length);
    JsonNode records = root.path("records");
    if (!root.path("received_at_millis").canConvertToLong() || !records.isArray()) {
      throw new IllegalArgumentException(
          "expected: {\"received_at_millis\": n, \"source\": \"...\", \"records\": [...]}");
    }
    List<Spend> spends = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      spends.add(Spend.from(record(records.get(i)), "records[" + i + "]."));
    }
    return new Batch(
        root.get("received_at_millis").asLong(), root.path("source").asText(""), spends);
  }

  /**
   * The {@code at_epoch_millis} of each record of an {@link #intact} batch line, in order, read
   * without building the records: all compaction needs to tell which records of a line stay. About
   * four times faster than {@link #parse}, which is kept for lines that must be written anew.
   */
  static long[] recordTimes(byte[] line, int length) {
    try (JsonParser p = FACTORY.createParser(line, JSON_OFFSET, length - JSON_OFFSET)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("not a JSON object");
      }
      long[] times = null;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        boolean records = p.currentName().equals("records");
        JsonToken value = p.nextToken();
        if (!records) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          throw new IllegalArgumentException("records: not an array");
        }
        times = new long[16];
        int n = 0;
        while (p.nextToken() == JsonToken.START_OBJECT) {
          long at = 0;
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            boolean isAt = p.currentName().equals("at_epoch_millis");
            if (p.nextToken() == JsonToken.VALUE_NUMBER_INT && isAt) {
              at = p.getLongValue();
            } else {
              p.skipChildren();
            }
          }
          if (at <= 0) {
            throw new IllegalArgumentException(
                "records[" + n + "].at_epoch_millis: missing or not > 0");
          }
          if (n == times.length) {
            times = Arrays.copyOf(times, n * 2);
          }
          times[n++] = at;
        }
        times = Arrays.copyOf(times, n);
      }
      if (times == null) {
        throw new IllegalArgumentException("records: missing");
      }
      return times;
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  private static void write(JsonGenerator g, Spend s) throws IOException {
    g.writeStartObject();
    g.writeStringField("id", s.id());
    g.writeNumberField("at_epoch_millis", s.atEpochMillis());
    g.writeStringField("tenant", s.tenant());
    g.writeStringField("api_key_id", s.apiKeyId());
    g.writeStringField("application", s.application());
    g.writeStringField("user", s.user());
    g.writeStringField("route", s.route());
    g.writeStringField("provider", s.provider());
    g.writeStringField("requested_model", s.requestedModel());
    g.writeStringField("model", s.model());
    g.writeNumberField("input_tokens", s.inputTokens());
    g.writeNumberField("cached_input_tokens", s.cachedInputTokens());
    g.writeNumberField("cache_write_tokens", s.cacheWriteTokens());
    g.writeNumberField("output_tokens", s.outputTokens());
    g.writeNumberField("reasoning_tokens", s.reasoningTokens());
    g.writeStringField("cost_usd", s.costUsd().toPlainString());
    g.writeBooleanField("estimated", s.estimated());
    g.writeStringField("price_version", s.priceVersion());
    g.writeEndObject();
  }

  private static SpendRecord record(JsonNode r) {
    return SpendRecord.newBuilder()
        .setId(r.path("id").asText(""))
        .setAtEpochMillis(r.path("at_epoch_millis").asLong(0))
        .setTenant(r.path("tenant").asText(""))
        .setApiKeyId(r.path("api_key_id").asText(""))
        .setApplication(r.path("application").asText(""))
        .setUser(r.path("user").asText(""))
        .setRoute(r.path("route").asText(""))
        .setProvider(r.path("provider").asText(""))
        .setRequestedModel(r.path("requested_model").asText(""))
        .setModel(r.path("model").asText(""))
        .setInputTokens(r.path("input_tokens").asLong(0))
        .setCachedInputTokens(r.path("cached_input_tokens").asLong(0))
        .setCacheWriteTokens(r.path("cache_write_tokens").asLong(0))
        .setOutputTokens(r.path("output_tokens").asLong(0))
        .setReasoningTokens(r.path("reasoning_tokens").asLong(0))
        .setCostUsd(r.path("cost_usd").asText(""))
        .setEstimated(r.path("estimated").asBoolean(false))
        .setPriceVersion(r.path("price_version").asText(""))
        .build();
  }
}
