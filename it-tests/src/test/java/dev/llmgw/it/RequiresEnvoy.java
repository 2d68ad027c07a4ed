package dev.llmgw.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Marks a test that needs a real Envoy; without one it is skipped and the report says why. */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresEnvoy.Condition.class)
@interface RequiresEnvoy {

  /** Enables the test only when {@link EnvoyRuntime#detect()} finds an Envoy. */
  final class Condition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      return EnvoyRuntime.detect()
          .map(
              r -> ConditionEvaluationResult.enabled("Envoy from " + r.kind() + " " + r.location()))
          .orElseGet(() -> {
            String reason = EnvoyRuntime.unavailableReason();
            // Printed as well, so the skip is visible in the build log and not only in the XML
            // report.
            System.out.println("[SKIPPED] " + context.getDisplayName() + ": " + reason);
            return ConditionEvaluationResult.disabled(reason);
          });
    }
  }
}
