package dev.llmgw.controlplane.rest;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgw.controlplane.spend.SpendLedger;
import dev.llmgw.controlplane.spend.SpendQuery;
import dev.llmgw.controlplane.spend.SpendRow;
import dev.llmgw.controlplane.spend.SpendTotals;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /v1/spend}: the ledger's totals over a range of UTC days, grouped by any of day,
 * tenant, API key, route, provider and model, optionally filtered to one value of any of them but the
 * day. The route is what the policy chose, the provider who served the exchange. A read like the
 * configuration's: the admin or read-only token, unless reads are open. Costs are strings holding exact
 * decimals. Errors name the query parameter and say what was expected.
 */
public final class SpendApi {

  private static final String FROM = "from";
  private static final String TO = "to";
  private static final String GROUP_BY = "group_by";
  /** The dimensions a query may filter by, each under its REST name. */
  private static final List<SpendQuery.Dimension> FILTERS = SpendQuery.allDimensions().stream()
      .filter(d -> d != SpendQuery.Dimension.DAY)
      .toList();

  private static final List<String> PARAMETERS = parameters();
  /** Costs show at least this many decimals, more when the exact sum has them. */
  private static final int MIN_COST_DECIMALS = 6;

  private final SpendLedger ledger;
  private final AdminAuth auth;
  private final Clock clock;

  /** {@code clock} decides "today", the default of {@code from} and {@code to} (as a UTC day). */
  public SpendApi(SpendLedger ledger, AdminAuth auth, Clock clock) {
    this.ledger = requireNonNull(ledger, "ledger");
    this.auth = requireNonNull(auth, "auth");
    this.clock = requireNonNull(clock, "clock");
  }

  void register(Javalin app) {
    app.get("/v1/spend", this::query);
  }

  private void query(Context ctx) {
    if (!auth.canRead(ctx, "spend queries")) {
      return;
    }
    try {
      SpendQuery q = parse(ctx);
      ctx.json(render(q, ledger.query(q)));
    } catch (BadParameterException e) {
      ApiErrors.error(ctx, HttpStatus.BAD_REQUEST, "invalid_request", e.parameter, e.getMessage());
    }
  }

  private SpendQuery parse(Context ctx) {
    Map<String, List<String>> params = ctx.queryParamMap();
    for (Map.Entry<String, List<String>> p : params.entrySet()) {
      if (!PARAMETERS.contains(p.getKey())) {
        throw new BadParameterException(
            p.getKey(),
            p.getKey() + ": unknown query parameter (expected one of: "
                + String.join(", ", PARAMETERS) + ")");
      }
      if (p.getValue().size() > 1) {
        throw new BadParameterException(
            p.getKey(),
            p.getKey() + ": given " + p.getValue().size() + " times (expected: at most once)");
      }
    }
    LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    LocalDate from = date(ctx, FROM, today);
    LocalDate to = date(ctx, TO, today);
    if (to.isBefore(from)) {
      throw new BadParameterException(
          TO, "to: " + to + " is before from, " + from + " (expected: a day on or after from)");
    }
    long days = SpendQuery.days(from, to);
    if (days > SpendQuery.MAX_DAYS) {
      throw new BadParameterException(
          TO,
          "to: " + from + ".." + to + " spans " + days + " days (expected: at most "
              + SpendQuery.MAX_DAYS + " days from from)");
    }
    Map<SpendQuery.Dimension, String> filters = new EnumMap<>(SpendQuery.Dimension.class);
    for (SpendQuery.Dimension d : FILTERS) {
      String value = ctx.queryParam(d.apiName());
      if (value != null) {
        filters.put(d, value);
      }
    }
    return new SpendQuery(from, to, filters, groupBy(ctx.queryParam(GROUP_BY)));
  }

  private static List<String> parameters() {
    List<String> names = new ArrayList<>(List.of(FROM, TO));
    FILTERS.forEach(d -> names.add(d.apiName()));
    names.add(GROUP_BY);
    return List.copyOf(names);
  }

  private static LocalDate date(Context ctx, String name, LocalDate absent) {
    String value = ctx.queryParam(name);
    if (value == null) {
      return absent;
    }
    try {
      if (value.length() != 10) {
        throw new DateTimeParseException("not 10 characters", value, 0);
      }
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) {
      throw new BadParameterException(
          name, name + ": '" + value + "' (expected: a UTC day as YYYY-MM-DD)");
    }
  }

  /** Absent: every dimension; empty: none (one row for the whole range). */
  private static List<SpendQuery.Dimension> groupBy(String value) {
    if (value == null) {
      return SpendQuery.allDimensions();
    }
    List<SpendQuery.Dimension> dimensions = new ArrayList<>();
    if (value.isBlank()) {
      return dimensions;
    }
    for (String part : value.split(",", -1)) {
      String name = part.trim();
      SpendQuery.Dimension d = SpendQuery.allDimensions().stream()
          .filter(x -> x.apiName().equals(name))
          .findFirst()
          .orElseThrow(() -> new BadParameterException(
              GROUP_BY,
              "group_by: '" + name + "' (expected: a comma-separated"
                  + " subset of "
                  + String.join(
                      ", ",
                      SpendQuery.allDimensions().stream()
                          .map(SpendQuery.Dimension::apiName)
                          .toList())
                  + ")"));
      if (dimensions.contains(d)) {
        throw new BadParameterException(
            GROUP_BY,
            "group_by: '" + name + "' given twice (expected: each dimension at most once)");
      }
      dimensions.add(d);
    }
    return dimensions;
  }

  private static ObjectNode render(SpendQuery q, List<SpendRow> rows) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put(FROM, q.from().toString());
    out.put(TO, q.to().toString());
    ArrayNode groupBy = out.putArray(GROUP_BY);
    q.groupBy().forEach(d -> groupBy.add(d.apiName()));
    ArrayNode items = out.putArray("rows");
    SpendTotals total = SpendTotals.ZERO;
    Set<SpendQuery.Dimension> dims = Set.copyOf(q.groupBy());
    for (SpendRow r : rows) {
      ObjectNode row = items.addObject();
      for (SpendQuery.Dimension d : SpendQuery.allDimensions()) {
        if (dims.contains(d)) {
          row.put(
              d.apiName(),
              requireNonNull(r.value(d), "a grouped dimension has a value").toString());
        }
      }
      SpendTotals t = r.totals();
      row.put("requests", t.requests());
      row.put("input_tokens", t.inputTokens());
      row.put("cached_input_tokens", t.cachedInputTokens());
      row.put("cache_write_tokens", t.cacheWriteTokens());
      row.put("output_tokens", t.outputTokens());
      row.put("reasoning_tokens", t.reasoningTokens());
      row.put("cost_usd", usd(t.costUsd()));
      row.put("estimated_requests", t.estimatedRequests());
      row.put("estimated_cost_usd", usd(t.estimatedCostUsd()));
      total = total.plus(t);
    }
    out.put("total_requests", total.requests());
    out.put("total_cost_usd", usd(total.costUsd()));
    out.put("total_estimated_cost_usd", usd(total.estimatedCostUsd()));
    return out;
  }

  /** The exact amount as a plain decimal with at least six places: "1.234500", "0.0000125". */
  static String usd(BigDecimal amount) {
    BigDecimal v = amount.stripTrailingZeros();
    return (v.scale() < MIN_COST_DECIMALS ? v.setScale(MIN_COST_DECIMALS) : v).toPlainString();
  }

  /** A query parameter the API refuses; {@code parameter} names it. */
  private static final class BadParameterException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String parameter;

    BadParameterException(String parameter, String message) {
      super(message, null, false, false);
      this.parameter = parameter;
    }
  }
}
