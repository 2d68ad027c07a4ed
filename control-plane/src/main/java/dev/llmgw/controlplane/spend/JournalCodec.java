package dev.llmgw.controlplane.spend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.proto.spend.v1.SpendRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The lines of the spend journal. After a header line, each line is one stored batch:
 * {@code <crc32 of the JSON, 8 lower-case hex digits> <JSON>\n}, where the JSON is
 * {@code {"received_at_millis": n, "source": "...", "records": [{...}, ...]}} and each record has
 * the field names of {@code spend.proto} ({@code cost_usd} as a string, so it stays exact).
 */
final class JournalCodec {

  /** The first line of every journal; a different one means another format. */
  static final String HEADER = "llmgw-spend-journal 1\n";
  static final byte[] HEADER_BYTES = HEADER.getBytes(StandardCharsets.US_ASCII);
  private static final int CRC_CHARS = 8;
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper JSON = new ObjectMapper(FACTORY);

  /** A batch as it was stored. */
  record Batch(long receivedAtMillis, String source, List<Spend> records) {}

  private JournalCodec() {}

  static byte[] line(long receivedAtMillis, String source, List<Spend> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + records.size() * 512);
    out.writeBytes(new byte[CRC_CHARS + 1]); // The checksum goes here once the JSON is known.
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
    out.write('\n');
    byte[] line = out.toByteArray();
    CRC32 crc = new CRC32();
    crc.update(line, CRC_CHARS + 1, line.length - CRC_CHARS - 2);
    byte[] hex = HexFormat.of().toHexDigits((int) crc.getValue()).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(hex, 0, line, 0, CRC_CHARS);
    line[CRC_CHARS] = ' ';
    return line;
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
      expected = Integer.toUnsignedLong(HexFormat.fromHexDigits(new String(line, 0, CRC_CHARS, StandardCharsets.US_ASCII)));
    } catch (IllegalArgumentException e) {
      return false;
    }
    CRC32 crc = new CRC32();
    crc.update(line, CRC_CHARS + 1, length - CRC_CHARS - 1);
    return crc.getValue() == expected;
  }

  /** The batch of an {@link #intact} line; throws with the reason if it does not hold one. */
  static Batch parse(byte[] line, int length) {
    JsonNode root;
    try {
      root = JSON.readTree(line, CRC_CHARS + 1, length - CRC_CHARS - 1);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    JsonNode records = root.path("records");
    if (!root.path("received_at_millis").canConvertToLong() || !records.isArray()) {
      throw new IllegalArgumentException("expected: {\"received_at_millis\": n, \"source\": \"...\", \"records\": [...]}");
    }
    List<Spend> spends = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      spends.add(Spend.from(record(records.get(i)), "records[" + i + "]."));
    }
    return new Batch(root.get("received_at_millis").asLong(), root.path("source").asText(""), spends);
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
