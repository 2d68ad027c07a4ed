package dev.llmgw.extproc.policy;

import org.jspecify.annotations.Nullable;

/**
 * Whom a registered API key belongs to. When a request's key is registered, these win over the
 * identity headers, so a caller cannot spend another tenant's budget by sending its header.
 *
 * @param tenant the key's tenant, or null to take the tenant header
 * @param application the key's application, or null to take the application header
 * @param user the key's user, or null to take the user header
 */
public record KeyIdentity(String tenant, String application, String user) {

  public KeyIdentity {
    tenant = blankToNull(tenant);
    application = blankToNull(application);
    user = blankToNull(user);
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
