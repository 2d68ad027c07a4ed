package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The totals file: what compaction folded out of the journal, as exact sums per (UTC day, tenant,
 * API key, route, provider, model), which is all a query needs. It is written whole to a temporary
 * file, forced and renamed, never appended to; so unlike the journal it cannot be torn, and any
 * damage refuses the start, naming the file and the offset. Lines use the journal's checked framing:
 *
 * <pre>
 * "llmgw-spend-totals 2\n"
 * crc {"generation":g,"folded_before":"YYYY-MM-DD","journal_offset":n,"rows":r,"records":m,"written_at_millis":t}
 * crc {"day":"YYYY-MM-DD","tenant":"…","api_key_id":"…","route":"…","provider":"…","model":"…","requests":n,
 *      "input_tokens":n,…,"cost_usd":"…","estimated_requests":n,"estimated_cost_usd":"…"}     (r of them)
 * </pre>
 *
 * <p>Format 1 (header {@code llmgw-spend-totals 1}) had no route and provider in its rows; its rows
 * read as route and provider {@code ""}, like records without them. It is replaced by format 2 at the
 * next compaction.
 */
final class TotalsFile {

  static final String HEADER = "llmgw-spend-totals 2\n";
  private static final byte[] HEADER_BYTES = HEADER.getBytes(StandardCharsets.US_ASCII);
  /** Written before the ledger kept totals by route and provider. */
  static final String HEADER_V1 = "llmgw-spend-totals 1\n";

  private static final byte[] HEADER_V1_BYTES = HEADER_V1.getBytes(StandardCharsets.US_ASCII);
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final Pattern PLAIN_DECIMAL = Pattern.compile("[0-9]{1,40}(\\.[0-9]{1,40})?");

  /**
   * The content of a totals file.
   *
   * @param generation the generation of the journal that goes with these totals
   * @param foldedBefore every record of a day before this one is in {@code rows}, except those a
   *     journal holds after {@code journalOffset} (late arrivals)
   * @param journalOffset how far the journal of generation {@code generation - 1} was folded. If a
   *     compaction stopped after renaming the totals but before renaming the new journal, that older
   *     journal is still there: its records before this offset and before {@code foldedBefore} are
   *     in the rows already, the rest are not
   * @param rows one per (day, tenant, API key, route, provider, model), every day before {@code
   *     foldedBefore}
   */
  record Snapshot(
      long generation, LocalDate foldedBefore, long journalOffset, List<SpendRow> rows) {
    Snapshot {
      requireNonNull(foldedBefore, "foldedBefore");
      rows = List.copyOf(rows);
    }

    long records() {
      return rows.stream().mapToLong(r -> r.totals().requests()).sum();
    }
  }

  private TotalsFile() {}

  /** Writes {@code snapshot} as a whole file to {@code out} (buffered by the caller or not). */
  static void write(OutputStream out, Snapshot snapshot, long writtenAtMillis) throws IOException {
    out.write(HEADER_BYTES);
    ByteArrayOutputStream line = new ByteArrayOutputStream(512);
    JournalCodec.reserveChecksum(line);
    try (JsonGenerator g = FACTORY.createGenerator(line)) {
      g.writeStartObject();
      g.writeNumberField("generation", snapshot.generation());
      g.writeStringField("folded_before", snapshot.foldedBefore().toString());
      g.writeNumberField("journal_offset", snapshot.journalOffset());
      g.writeNumberField("rows", snapshot.rows().size());
      g.writeNumberField("records", snapshot.records());
      g.writeNumberField("written_at_millis", writtenAtMillis);
      g.writeEndObject();
    }
    out.write(JournalCodec.checked(line));
    for (SpendRow r : snapshot.rows()) {
      line.reset();
      JournalCodec.reserveChecksum(line);
      try (JsonGenerator g = FACTORY.createGenerator(line)) {
        SpendTotals t = r.totals();
        g.writeStartObject();
        // The book's rows before a day are grouped by every dimension, so none is null.
        g.writeStringField("day", requireNonNull(r.day(), "day").toString());
        g.writeStringField("tenant", r.tenant());
        g.writeStringField("api_key_id", r.apiKeyId());
        g.writeStringField("route", r.route());
        g.writeStringField("provider", r.provider());
        g.writeStringField("model", r.model());
        g.writeNumberField("requests", t.requests());
        g.writeNumberField("input_tokens", t.inputTokens());
        g.writeNumberField("cached_input_tokens", t.cachedInputTokens());
        g.writeNumberField("cache_write_tokens", t.cacheWriteTokens());
        g.writeNumberField("output_tokens", t.outputTokens());
        g.writeNumberField("reasoning_tokens", t.reasoningTokens());
        g.writeStringField("cost_usd", t.costUsd().toPlainString());
        g.writeNumberField("estimated_requests", t.estimatedRequests());
        g.writeStringField("estimated_cost_usd", t.estimatedCostUsd().toPlainString());
        g.writeEndObject();
      }
      out.write(JournalCodec.checked(line));
    }
  }

  /**
   * Reads a totals file and checks every line of it.
   *
   * @throws SpendLedgerException naming the file and the offset of the first thing that is wrong
   */
  static Snapshot read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      LineReader lines = new LineReader(in, 0);
      boolean read = lines.next() && lines.newline;
      List<String> fields;
      if (read && is(lines, HEADER_BYTES)) {
        fields = ROW_FIELDS;
      } else if (read && is(lines, HEADER_V1_BYTES)) {
        fields = ROW_FIELDS_V1;
      } else {
        throw damaged(
            file,
            0,
            "does not start with the line '" + HEADER.strip()
                + "' (expected: a spend totals file of"
                + " this format; was it written by a newer control plane?)");
      }
      if (!lines.next() || !lines.intact()) {
        throw damaged(file, lines.start, "the summary line is missing or fails its checksum");
      }
      JsonNode meta = json(file, lines);
      long generation;
      LocalDate foldedBefore;
      long journalOffset;
      long rowCount;
      long records;
      try {
        generation = atLeast(meta, "generation", 1);
        foldedBefore = day(meta, "folded_before");
        journalOffset = atLeast(meta, "journal_offset", 0);
        rowCount = atLeast(meta, "rows", 0);
        records = atLeast(meta, "records", 0);
      } catch (IllegalArgumentException e) {
        throw damaged(file, lines.start, "the summary line is not valid: " + e.getMessage());
      }
      List<SpendRow> rows = new ArrayList<>((int) Math.min(rowCount, 1 << 20));
      Set<List<Object>> keys = new HashSet<>();
      LastDay lastDay = new LastDay();
      long sum = 0;
      while (lines.next()) {
        if (!lines.intact()) {
          throw damaged(
              file,
              lines.start,
              "line " + (rows.size() + 3) + " is incomplete or fails its checksum");
        }
        SpendRow row;
        try {
          row = row(lines.buf, lines.length, lastDay, fields);
        } catch (IllegalArgumentException e) {
          throw damaged(
              file,
              lines.start,
              "line " + (rows.size() + 3) + " is not a valid row: " + e.getMessage());
        }
        if (!requireNonNull(row.day(), "row() reads every field").isBefore(foldedBefore)) {
          throw damaged(
              file,
              lines.start,
              "a row of " + row.day() + " (expected: only days before folded_before, "
                  + foldedBefore + ")");
        }
        if (!keys.add(List.of(row.day(), row.attribution()))) {
          throw damaged(
              file,
              lines.start,
              "a second row for " + row.day() + "/" + row.tenant() + "/" + row.apiKeyId() + "/"
                  + row.route() + "/" + row.provider() + "/" + row.model()
                  + " (expected: one per day, tenant, API key, route, provider and model)");
        }
        rows.add(row);
        sum += row.totals().requests();
      }
      if (rows.size() != rowCount || sum != records) {
        throw damaged(
            file,
            lines.end,
            rows.size() + " rows holding " + sum + " records end the file (expected: " + rowCount
                + " rows holding " + records
                + " records, as its summary line says; rows are missing or extra)");
      }
      return new Snapshot(generation, foldedBefore, journalOffset, rows);
    } catch (IOException e) {
      throw new SpendLedgerException("cannot read " + file + ": " + e, e);
    }
  }

  /** Whether the line just read is {@code header} without its newline. */
  private static boolean is(LineReader lines, byte[] header) {
    int length = header.length - 1;
    return lines.length == length && Arrays.equals(lines.buf, 0, length, header, 0, length);
  }

  private static SpendLedgerException damaged(Path file, long offset, String problem) {
    return new SpendLedgerException(
        file + ": at offset " + offset + ", " + problem + ". The totals file is written"
            + " whole and renamed into place, so this is damage, not a torn write; refusing to start rather than lose"
            + " the spend it holds. Restore the directory from a backup.");
  }

  private static JsonNode json(Path file, LineReader lines) {
    try {
      return JournalCodec.json(lines.buf, lines.length);
    } catch (IllegalArgumentException e) {
      throw damaged(file, lines.start, "a line with a valid checksum holds " + e.getMessage());
    }
  }

  /** Row fields in the order they are written; each must be there once. */
  private static final List<String> ROW_FIELDS = List.of(
      "day",
      "tenant",
      "api_key_id",
      "route",
      "provider",
      "model",
      "requests",
      "input_tokens",
      "cached_input_tokens",
      "cache_write_tokens",
      "output_tokens",
      "reasoning_tokens",
      "cost_usd",
      "estimated_requests",
      "estimated_cost_usd");

  /** Format 1's row fields: no route and provider. */
  private static final List<String> ROW_FIELDS_V1 = ROW_FIELDS.stream()
      .filter(f -> !f.equals("route") && !f.equals("provider"))
      .toList();

  /** Row fields whose value is a string; the others are integers >= 0. */
  private static final Set<String> TEXT_FIELDS = Set.of(
      "day",
      "tenant",
      "api_key_id",
      "route",
      "provider",
      "model",
      "cost_usd",
      "estimated_cost_usd");

  /** The last day parsed: rows come sorted by day, so most rows reuse it. */
  private static final class LastDay {
    private @Nullable String text;
    private @Nullable LocalDate day;

    LocalDate parse(String dayText) {
      LocalDate parsed = day;
      if (parsed == null || !dayText.equals(text)) {
        parsed = day(dayText);
        day = parsed;
        text = dayText;
      }
      return parsed;
    }
  }

  /**
   * A row, read with a streaming parser: a JSON tree per row made large files slow to open. Values
   * go by their place in {@link #ROW_FIELDS}; {@code fields} are those this file's format has.
   */
  private static SpendRow row(byte[] line, int length, LastDay lastDay, List<String> fields)
      throws IOException {
    Object[] values = new Object[ROW_FIELDS.size()];
    try (JsonParser p =
        FACTORY.createParser(line, JournalCodec.JSON_OFFSET, length - JournalCodec.JSON_OFFSET)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("not a JSON object");
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        if (t != JsonToken.FIELD_NAME) {
          throw new IllegalArgumentException("an incomplete JSON object");
        }
        String field = p.currentName();
        int i = fields.contains(field) ? ROW_FIELDS.indexOf(field) : -1;
        if (i < 0 || values[i] != null) {
          throw new IllegalArgumentException(field + ": " + (i < 0 ? "unknown" : "repeated")
              + " (expected: once each of " + fields + ")");
        }
        boolean text = TEXT_FIELDS.contains(field);
        JsonToken value = p.nextToken();
        if (!text
            && value == JsonToken.VALUE_NUMBER_INT
            && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          values[i] = p.getLongValue();
        } else if (value == JsonToken.VALUE_STRING) {
          values[i] = p.getText();
        } else {
          throw new IllegalArgumentException(field + ": " + p.getText() + " (expected: "
              + (text ? "a string" : "an integer >= 0") + ")");
        }
      }
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("more after the row's JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null && fields.contains(ROW_FIELDS.get(i))) {
        throw new IllegalArgumentException(ROW_FIELDS.get(i) + ": missing");
      } else if (values[i] == null) {
        values[i] = ""; // a field of a later format: the record did not have it
      }
    }
    String day = text(values, 0);
    SpendTotals totals = new SpendTotals(
        count(values, 6),
        count(values, 7),
        count(values, 8),
        count(values, 9),
        count(values, 10),
        count(values, 11),
        decimal(values, 12),
        count(values, 13),
        decimal(values, 14));
    return new SpendRow(
        lastDay.parse(day),
        text(values, 1),
        text(values, 2),
        text(values, 3),
        text(values, 4),
        text(values, 5),
        totals);
  }

  private static String text(Object[] values, int i) {
    if (!(values[i] instanceof String s) || s.length() > Spend.MAX_TEXT_CHARS) {
      throw new IllegalArgumentException(ROW_FIELDS.get(i) + ": " + values[i]
          + " (expected: a string of at most " + Spend.MAX_TEXT_CHARS + " characters)");
    }
    return s;
  }

  private static long count(Object[] values, int i) {
    if (!(values[i] instanceof Long n) || n < 0) {
      throw new IllegalArgumentException(
          ROW_FIELDS.get(i) + ": " + values[i] + " (expected: an integer >= 0)");
    }
    return n;
  }

  /** A sum of costs: a non-negative plain decimal, as {@link BigDecimal#toPlainString()} writes it. */
  private static BigDecimal decimal(Object[] values, int i) {
    if (values[i] instanceof String s && PLAIN_DECIMAL.matcher(s).matches()) {
      return new BigDecimal(s);
    }
    throw new IllegalArgumentException(ROW_FIELDS.get(i) + ": \"" + values[i]
        + "\" (expected: a non-negative plain" + " decimal such as \"12.500000\", as a string)");
  }

  private static LocalDate day(String text) {
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("day: " + text + " (expected: a day, YYYY-MM-DD)", e);
    }
  }

  private static long atLeast(JsonNode in, String field, long min) {
    JsonNode v = in.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
      throw new IllegalArgumentException(
          field + ": " + v + " (expected: an integer >= " + min + ")");
    }
    return v.asLong();
  }

  private static LocalDate day(JsonNode in, String field) {
    JsonNode v = in.get(field);
    try {
      if (v != null && v.isTextual()) {
        return LocalDate.parse(v.asText());
      }
    } catch (DateTimeParseException e) {
      // reported below
    }
    throw new IllegalArgumentException(field + ": " + v + " (expected: a day, YYYY-MM-DD)");
  }
}
