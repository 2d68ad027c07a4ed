package dev.llmgw.extproc.pii;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.llmgw.extproc.api.ApiError;
import dev.llmgw.extproc.api.LlmApi;
import dev.llmgw.extproc.api.LlmRequest;
import dev.llmgw.extproc.api.SseEvent;
import dev.llmgw.extproc.server.Answer;
import dev.llmgw.extproc.server.ExchangeListener;
import dev.llmgw.extproc.server.RejectException;
import dev.llmgw.extproc.server.ResponseRewriter;
import dev.llmgw.extproc.server.StreamContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One exchange under a PII policy: masks the request, keeps the placeholder mapping, restores the
 * response, and scans the model's output when asked. Per stream; never shared.
 */
final class PiiObserver implements ExchangeListener.Observer {

  private static final Logger log = LoggerFactory.getLogger(PiiObserver.class);
  /** Keeps numbers exactly as the client wrote them when a masked request is written again. */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();
  /** Model output scanned per exchange when flagging: enough for any answer, bounded for memory. */
  static final int MAX_SCANNED_RESPONSE_CHARS = 1 << 20;

  private final StreamContext context;
  private final LlmApi api;
  private final PiiPolicy policy;
  private final PiiProtection owner;
  private final EnumMap<EntityType, Integer> found = new EnumMap<>(EntityType.class);
  private final EnumSet<EntityType> blocked = EnumSet.noneOf(EntityType.class);
  private Vault vault = Vault.empty();
  private @Nullable ResponseRestorer restorer;
  private final Map<String, StringBuilder> responseText = new LinkedHashMap<>();
  private int responseChars;
  private @Nullable EnumMap<EntityType, Integer> responseFound;

  PiiObserver(StreamContext context, PiiPolicy policy, PiiProtection owner) {
    this.context = context;
    // Observers are opened only for LLM exchanges.
    this.api = java.util.Objects.requireNonNull(context.api(), "api");
    this.policy = policy;
    this.owner = owner;
  }

  @Override
  public @Nullable Answer onRequest(LlmRequest request) {
    Set<EntityType> types = policy.detectedTypes();
    if (types.isEmpty()) {
      return null;
    }
    vault = new Vault(request.received());
    PiiProtection.TextScanner scanner = owner.scanner(types);
    try {
      RequestText.rewrite(api, request, text -> apply(scanner, text));
    } catch (RuntimeException | StackOverflowError e) {
      detectionFailed(e);
      return null;
    }
    found.forEach((type, n) -> owner.metrics().detected(type, policy.actionFor(type), n));
    if (!blocked.isEmpty()) {
      owner.metrics().blocked("policy");
      vault.clear();
      String names = blocked.stream().map(EntityType::tag).collect(Collectors.joining(", "));
      throw new RejectException(new ApiError(
          policy.blockStatus(),
          policy.blockStatus() == 403 ? ApiError.Kind.PERMISSION : ApiError.Kind.INVALID_REQUEST,
          null,
          "pii_blocked",
          "The request contains personal data this gateway's policy does not allow to be sent: "
              + names + " (expected: a request without them)"));
    }
    return null;
  }

  /** Replaces each finding in {@code text} according to the policy; returns {@code text} itself when nothing applies. */
  private String apply(PiiProtection.TextScanner scanner, String text) {
    List<Finding> findings = scanner.scan(text);
    if (findings.isEmpty()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16 * findings.size());
    int from = 0;
    for (Finding f : findings) {
      PiiPolicy.Action action = policy.actionFor(f.type());
      if (action == PiiPolicy.Action.ALLOW || f.start() < from) {
        continue;
      }
      found.merge(f.type(), 1, Integer::sum);
      String value = text.substring(f.start(), f.end());
      String replacement = switch (action) {
        case MASK -> vault.mask(f.type(), value);
        case REDACT -> redacted(f.type());
        case HASH -> "<" + f.type().name() + "_HASH_" + hash(f.type(), value) + ">";
        case BLOCK -> {
          blocked.add(f.type());
          yield value;
        }
        case ALLOW -> value;
      };
      out.append(text, from, f.start()).append(replacement);
      from = f.end();
    }
    if (from == 0) {
      return text;
    }
    out.append(text, from, text.length());
    return out.toString();
  }

  /**
   * Detection failed part-way: the policy says whether the request goes on unmasked or is refused.
   * Going on, it goes exactly as the client sent it.
   */
  private void detectionFailed(Throwable e) {
    owner.metrics().detectionFailed(policy.onError());
    // The exception's class only: messages of detectors may quote the text.
    log.warn(
        "PII detection failed ({}); policy says {}",
        e.getClass().getName(),
        policy.onError() == PiiPolicy.OnError.BLOCK ? "block the request" : "forward it unmasked");
    if (policy.onError() == PiiPolicy.OnError.ALLOW) {
      vault = Vault.empty();
      return;
    }
    owner.metrics().blocked("detection_failed");
    throw new RejectException(new ApiError(
        503,
        ApiError.Kind.GATEWAY,
        null,
        "pii_detection_failed",
        "The gateway could not check this request for personal data, so it was not sent (expected: retry later; "
            + "the policy forwards nothing unchecked)"));
  }

  @Override
  public @Nullable ResponseRewriter responseRewriter() {
    boolean restoring = policy.restore() && !vault.isEmpty();
    boolean masking =
        policy.responseScan() == PiiPolicy.ResponseScan.MASK && !context.eventStream();
    if (!restoring && !masking) {
      return null;
    }
    ResponseRestorer created = new ResponseRestorer(
        api, policy.restore() ? vault : Vault.empty(), masking ? this::maskResponseText : null);
    restorer = created;
    return created;
  }

  @Override
  public void onResponseEvent(SseEvent event) {
    if (policy.responseScan() == PiiPolicy.ResponseScan.OFF
        || event.isDone()
        || responseChars >= MAX_SCANNED_RESPONSE_CHARS) {
      return;
    }
    JsonNode data = event.json();
    if (data == null) {
      return;
    }
    for (Deltas.Delta d : Deltas.of(api, event.event(), data)) {
      String text = d.text();
      responseChars += text.length();
      responseText.computeIfAbsent(d.channel(), k -> new StringBuilder()).append(text);
    }
  }

  @Override
  public void onResponseBody(byte[] body) {
    if (policy.responseScan() != PiiPolicy.ResponseScan.FLAG) {
      return; // MASK counts what it masks in the rewriter
    }
    try {
      collectStrings(JSON.readTree(body));
    } catch (IOException e) {
      // not JSON: nothing to scan
    }
  }

  private void collectStrings(JsonNode node) {
    if (node == null || responseChars >= MAX_SCANNED_RESPONSE_CHARS) {
      return;
    }
    if (node.isTextual()) {
      responseChars += node.textValue().length();
      responseText
          .computeIfAbsent("body/" + responseText.size(), k -> new StringBuilder())
          .append(node.textValue());
    } else {
      for (JsonNode child : node) {
        collectStrings(child);
      }
    }
  }

  /** Masks what the model emitted in one text of a non-streamed answer, counting it. */
  private String maskResponseText(String text) {
    List<Finding> findings = owner.scanner(responseTypes()).scan(text);
    if (findings.isEmpty()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int from = 0;
    for (Finding f : findings) {
      if (f.start() < from) {
        continue;
      }
      countResponse(f.type());
      out.append(text, from, f.start()).append(redacted(f.type()));
      from = f.end();
    }
    return out.append(text, from, text.length()).toString();
  }

  private Set<EntityType> responseTypes() {
    Set<EntityType> types = policy.detectedTypes();
    return types.isEmpty() ? EnumSet.allOf(EntityType.class) : types;
  }

  private void countResponse(EntityType type) {
    if (responseFound == null) {
      responseFound = new EnumMap<>(EntityType.class);
    }
    responseFound.merge(type, 1, Integer::sum);
  }

  @Override
  public Map<String, Object> requestMetadata() {
    if (found.isEmpty()) {
      return Map.of();
    }
    return Map.of(
        "pii_found", found.values().stream().mapToInt(Integer::intValue).sum(),
        "pii_types", found.keySet().stream().map(EntityType::tag).collect(Collectors.joining(",")));
  }

  @Override
  public void onResponseEnd() {
    if (!responseText.isEmpty()) {
      PiiProtection.TextScanner scanner = owner.scanner(responseTypes());
      try {
        for (StringBuilder text : responseText.values()) {
          for (Finding f : scanner.scan(text)) {
            countResponse(f.type());
          }
        }
      } catch (RuntimeException | StackOverflowError e) {
        log.warn("PII scan of a response failed ({})", e.getClass().getName());
      }
      responseText.clear();
    }
    if (responseFound != null) {
      PiiPolicy.ResponseScan mode = responseAction();
      responseFound.forEach((type, n) -> owner.metrics().responseFound(type, mode, n));
    }
  }

  /** What was done about PII found in the response: masked (JSON answers only) or flagged. */
  private PiiPolicy.ResponseScan responseAction() {
    return policy.responseScan() == PiiPolicy.ResponseScan.MASK && !context.eventStream()
        ? PiiPolicy.ResponseScan.MASK
        : PiiPolicy.ResponseScan.FLAG;
  }

  @Override
  public Map<String, Object> responseMetadata() {
    Map<String, Object> tags = new LinkedHashMap<>();
    if (restorer != null && restorer.restored() > 0) {
      tags.put("pii_restored", restorer.restored());
    }
    if (responseFound != null) {
      tags.put(
          "pii_response_found",
          responseFound.values().stream().mapToInt(Integer::intValue).sum());
      tags.put(
          "pii_response_types",
          responseFound.keySet().stream().map(EntityType::tag).collect(Collectors.joining(",")));
      tags.put("pii_response_action", responseAction().name().toLowerCase(Locale.ROOT));
    }
    return tags;
  }

  @Override
  public void onEnd() {
    ResponseRestorer restorer = this.restorer;
    if (restorer != null) {
      owner.metrics().restored(restorer.restored());
    }
    vault.clear();
    responseText.clear();
    this.restorer = null;
  }

  private static String redacted(EntityType type) {
    return "[REDACTED_" + type.name() + "]";
  }

  private String hash(EntityType type, String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(owner.hashKey(), "HmacSHA256"));
      byte[] digest = mac.doFinal((type.name() + ':' + value).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
