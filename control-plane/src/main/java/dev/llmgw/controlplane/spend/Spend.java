package dev.llmgw.controlplane.spend;

import static java.util.Objects.requireNonNull;

import dev.llmgw.proto.spend.v1.SpendRecord;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * One exchange's spend as the ledger keeps it: a {@link SpendRecord} that passed validation, with
 * the cost as an exact decimal. Built only through {@link #from}, so every value in a ledger obeys
 * the rules of {@code spend.proto}.
 *
 * @param id unique per exchange; the ledger counts an id once
 * @param atEpochMillis when the exchange finished; it is filed under this instant's UTC {@link #day()}
 * @param costUsd exact, {@code >= 0}
 * @param estimated the cost rests on the gateway's own token counts
 */
public record Spend(
    String id,
    long atEpochMillis,
    String tenant,
    String apiKeyId,
    String application,
    String user,
    String route,
    String provider,
    String requestedModel,
    String model,
    long inputTokens,
    long cachedInputTokens,
    long cacheWriteTokens,
    long outputTokens,
    long reasoningTokens,
    BigDecimal costUsd,
    boolean estimated,
    String priceVersion) {

  /** Longest id accepted: ids are held in memory for duplicate detection. */
  public static final int MAX_ID_CHARS = 128;
  /** Longest text field accepted (tenant, model, ...): they become aggregate keys. */
  public static final int MAX_TEXT_CHARS = 256;

  private static final int MAX_INTEGER_DIGITS = 12;
  private static final int MAX_FRACTION_DIGITS = 18;

  public Spend {
    requireNonNull(id, "id");
    requireNonNull(tenant, "tenant");
    requireNonNull(apiKeyId, "apiKeyId");
    requireNonNull(application, "application");
    requireNonNull(user, "user");
    requireNonNull(route, "route");
    requireNonNull(provider, "provider");
    requireNonNull(requestedModel, "requestedModel");
    requireNonNull(model, "model");
    requireNonNull(costUsd, "costUsd");
    requireNonNull(priceVersion, "priceVersion");
  }

  /** The UTC day the spend is filed under. */
  public LocalDate day() {
    return LocalDate.ofInstant(Instant.ofEpochMilli(atEpochMillis), ZoneOffset.UTC);
  }

  /**
   * Validates a record from the wire. {@code prefix} goes in front of field names in errors, e.g.
   * {@code "records[3]."}.
   *
   * @throws InvalidSpendException naming the first field that breaks a rule, and the rule
   */
  public static Spend from(SpendRecord r, String prefix) {
    requireNonNull(r, "r");
    requireNonNull(prefix, "prefix");
    if (r.getId().isEmpty() || r.getId().length() > MAX_ID_CHARS) {
      throw new InvalidSpendException(
          prefix + "id",
          "'" + clip(r.getId()) + "' (expected: 1.." + MAX_ID_CHARS
              + " characters, unique per exchange, e.g. a UUID)");
    }
    if (r.getAtEpochMillis() <= 0) {
      throw new InvalidSpendException(
          prefix + "at_epoch_millis",
          r.getAtEpochMillis() + " (expected: > 0, milliseconds since the Unix epoch)");
    }
    return new Spend(
        r.getId(),
        r.getAtEpochMillis(),
        text(prefix, "tenant", r.getTenant()),
        text(prefix, "api_key_id", r.getApiKeyId()),
        text(prefix, "application", r.getApplication()),
        text(prefix, "user", r.getUser()),
        text(prefix, "route", r.getRoute()),
        text(prefix, "provider", r.getProvider()),
        text(prefix, "requested_model", r.getRequestedModel()),
        text(prefix, "model", r.getModel()),
        tokens(prefix, "input_tokens", r.getInputTokens()),
        tokens(prefix, "cached_input_tokens", r.getCachedInputTokens()),
        tokens(prefix, "cache_write_tokens", r.getCacheWriteTokens()),
        tokens(prefix, "output_tokens", r.getOutputTokens()),
        tokens(prefix, "reasoning_tokens", r.getReasoningTokens()),
        cost(prefix + "cost_usd", r.getCostUsd()),
        r.getEstimated(),
        text(prefix, "price_version", r.getPriceVersion()));
  }

  /** The record as it goes over the wire. */
  public SpendRecord toProto() {
    return SpendRecord.newBuilder()
        .setId(id)
        .setAtEpochMillis(atEpochMillis)
        .setTenant(tenant)
        .setApiKeyId(apiKeyId)
        .setApplication(application)
        .setUser(user)
        .setRoute(route)
        .setProvider(provider)
        .setRequestedModel(requestedModel)
        .setModel(model)
        .setInputTokens(inputTokens)
        .setCachedInputTokens(cachedInputTokens)
        .setCacheWriteTokens(cacheWriteTokens)
        .setOutputTokens(outputTokens)
        .setReasoningTokens(reasoningTokens)
        .setCostUsd(costUsd.toPlainString())
        .setEstimated(estimated)
        .setPriceVersion(priceVersion)
        .build();
  }

  /**
   * A plain non-negative decimal: digits, optionally a point and more digits. No sign, exponent or
   * grouping, so a cost can never turn into a huge number through its notation.
   */
  static BigDecimal cost(String field, String value) {
    int point = value.indexOf('.');
    int integerDigits = point < 0 ? value.length() : point;
    int fractionDigits = point < 0 ? 0 : value.length() - point - 1;
    boolean valid = integerDigits >= 1
        && integerDigits <= MAX_INTEGER_DIGITS
        && (point < 0 || fractionDigits >= 1)
        && fractionDigits <= MAX_FRACTION_DIGITS;
    for (int i = 0; valid && i < value.length(); i++) {
      char c = value.charAt(i);
      valid = (c >= '0' && c <= '9') || i == point;
    }
    if (!valid) {
      throw new InvalidSpendException(
          field,
          "'" + clip(value) + "' (expected: a non-negative plain decimal such as"
              + " 0.001234, at most " + MAX_INTEGER_DIGITS + " integer and " + MAX_FRACTION_DIGITS
              + " fraction digits)");
    }
    return new BigDecimal(value);
  }

  private static String text(String prefix, String field, String value) {
    if (value.length() > MAX_TEXT_CHARS) {
      throw new InvalidSpendException(
          prefix + field,
          "'" + clip(value) + "' is " + value.length() + " characters (expected: at most "
              + MAX_TEXT_CHARS + ")");
    }
    return value;
  }

  private static long tokens(String prefix, String field, long value) {
    if (value < 0) {
      throw new InvalidSpendException(prefix + field, value + " (expected: >= 0)");
    }
    return value;
  }

  private static String clip(String value) {
    return value.length() <= 40 ? value : value.substring(0, 40) + "...";
  }
}
