package dev.llmgw.extproc.pii;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The PII policies of a gateway policy: a default, per-route overrides (by the route header value
 * the model resolved to) and per-tenant overrides. A tenant's policy wins over its route's, which
 * wins over the default; each is a whole policy, not merged field by field.
 *
 * @param defaults the policy for exchanges no override names, or null for none
 * @param routes policy by route name (the route header value: a named route or a provider's own route)
 * @param tenants policy by tenant
 */
public record PiiPolicies(
    @Nullable PiiPolicy defaults, Map<String, PiiPolicy> routes, Map<String, PiiPolicy> tenants) {

  /** No PII handling anywhere. */
  public static final PiiPolicies NONE = new PiiPolicies(null, Map.of(), Map.of());

  public PiiPolicies {
    routes = Map.copyOf(requireNonNull(routes, "routes"));
    tenants = Map.copyOf(requireNonNull(tenants, "tenants"));
  }

  /** The policy for an exchange of {@code tenant} (nullable) sent to {@code route} (nullable). */
  public Optional<PiiPolicy> forExchange(@Nullable String tenant, @Nullable String route) {
    if (tenant != null && tenants.containsKey(tenant)) {
      return Optional.of(tenants.get(tenant));
    }
    if (route != null && routes.containsKey(route)) {
      return Optional.of(routes.get(route));
    }
    return Optional.ofNullable(defaults);
  }

  public boolean isEmpty() {
    return defaults == null && routes.isEmpty() && tenants.isEmpty();
  }
}
