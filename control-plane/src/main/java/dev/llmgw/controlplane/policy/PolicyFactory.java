package dev.llmgw.controlplane.policy;

import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.ModelAlias;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.model.Route;
import dev.llmgw.proto.policy.v1.FailureMode;
import dev.llmgw.proto.policy.v1.ModelTarget;
import dev.llmgw.proto.policy.v1.Policy;
import dev.llmgw.proto.policy.v1.UnknownModel;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Builds the policy ext-proc runs from the model aliases and the routes they name. Pure. */
public final class PolicyFactory {

  private PolicyFactory() {}

  /**
   * @throws IllegalArgumentException if an alias names a route that does not exist
   */
  public static Policy policy(String version, GatewaySpec spec, List<ModelAlias> aliases) {
    Set<String> routes = new HashSet<>();
    spec.providers().stream().map(Provider::name).forEach(routes::add);
    spec.routes().stream().map(Route::name).forEach(routes::add);
    Policy.Builder policy = Policy.newBuilder()
        .setVersion(version)
        .setUnknownModel(UnknownModel.REJECT)
        .setFailureMode(FailureMode.FAIL_CLOSED)
        .setIncludeStreamUsage(true);
    for (ModelAlias a : aliases) {
      if (!routes.contains(a.route())) {
        throw new IllegalArgumentException("models['" + a.name() + "'].route: unknown route '"
            + a.route() + "' (expected: one of " + routes.stream().sorted().toList() + ")");
      }
      policy.putModels(
          a.name(),
          ModelTarget.newBuilder().setRoute(a.route()).setModel(a.model()).build());
    }
    return policy.build();
  }
}
