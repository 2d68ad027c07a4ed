package dev.llmgw.extproc.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * Who a request is for, from the configured identity headers. The API key itself is never kept:
 * only a short SHA-256 fingerprint, which is enough to attribute spend and safe to log.
 *
 * @param tenant tenant name, or null
 * @param application application name, or null
 * @param user end user, or null
 * @param apiKeyId fingerprint of the API key ({@code key_} + 12 hex digits), or null
 */
public record Identity(
    @Nullable String tenant,
    @Nullable String application,
    @Nullable String user,
    @Nullable String apiKeyId) {

  public static final Identity ANONYMOUS = new Identity(null, null, null, null);

  /** The fingerprint under which an API key is attributed. */
  public static String fingerprint(String apiKey) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(apiKey.getBytes(StandardCharsets.UTF_8));
      return "key_" + HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
