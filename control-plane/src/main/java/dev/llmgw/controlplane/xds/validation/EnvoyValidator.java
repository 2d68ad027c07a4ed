package dev.llmgw.controlplane.xds.validation;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.pgv.ValidationException;
import io.envoyproxy.pgv.ValidatorImpl;
import io.envoyproxy.pgv.ValidatorIndex;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks Envoy resources against Envoy's own validation rules (its PGV annotations, through the
 * validators the build generates from Envoy's {@code .proto} files), without an Envoy.
 *
 * <p>Unlike {@code ReflectiveValidatorIndex}, it reaches every message in a resource: it unpacks
 * each {@code google.protobuf.Any} (HTTP filters in an HCM in a listener, TLS contexts, protocol
 * options, cluster types, access loggers, ...) and validates what it holds. It never passes a type
 * silently: an Any naming a type outside Envoy's API is a violation, and so is an Envoy type whose
 * generated validator is missing from the classpath. It reports every violating message rather than
 * stopping at the first, and adds the few load-time rules Envoy enforces in C++ for the filters the
 * gateway uses (see {@link LoadTimeRules}).
 *
 * <p>Thread-safe; create one and share it.
 *
 * <pre>{@code
 * EnvoyValidator validator = new EnvoyValidator();
 * List<Violation> violations = validator.validate(listener);
 * validator.requireValid(snapshot); // throws EnvoyValidationException listing every violation
 * }</pre>
 */
public final class EnvoyValidator {

  /** Finds the generated PGV validator of a message class. */
  @FunctionalInterface
  interface ValidatorLookup {
    Optional<ValidatorImpl<Message>> find(Class<? extends Message> messageClass);
  }

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern DURATION_TEXT =
      Pattern.compile("(?:seconds: (-?\\d+))(?: nanos: (-?\\d+))?|nanos: (-?\\d+)");

  private final ValidatorLookup lookup;
  private final Map<Class<?>, Optional<ValidatorImpl<Message>>> validators =
      new ConcurrentHashMap<>();

  /** A validator using the PGV validators generated at build time. */
  public EnvoyValidator() {
    this(EnvoyValidator::generatedValidator);
  }

  EnvoyValidator(ValidatorLookup lookup) {
    this.lookup = requireNonNull(lookup, "lookup");
  }

  /** Every violation in {@code resource} and in everything its Any fields hold; empty if valid. */
  public List<Violation> validate(Message resource) {
    requireNonNull(resource, "resource");
    List<Violation> out = new ArrayList<>();
    validateInto(resource, out);
    return List.copyOf(out);
  }

  /** Every violation in the given resources, resource by resource. */
  public List<Violation> validate(Iterable<? extends Message> resources) {
    requireNonNull(resources, "resources");
    List<Violation> out = new ArrayList<>();
    for (Message resource : resources) {
      validateInto(requireNonNull(resource, "resource"), out);
    }
    return List.copyOf(out);
  }

  /** Every violation in a snapshot's clusters, endpoints, listeners, routes and secrets. */
  public List<Violation> validate(Snapshot snapshot) {
    requireNonNull(snapshot, "snapshot");
    List<Violation> out = new ArrayList<>();
    for (SnapshotResources<?> kind : List.of(
        snapshot.clusters(),
        snapshot.endpoints(),
        snapshot.listeners(),
        snapshot.routes(),
        snapshot.secrets())) {
      kind.resources().values().forEach(resource -> validateInto(resource, out));
    }
    return List.copyOf(out);
  }

  /**
   * Returns {@code resource} if Envoy would accept it.
   *
   * @throws EnvoyValidationException listing every violation with its path otherwise
   */
  public <T extends Message> T requireValid(T resource) {
    throwIfAny(validate(resource));
    return resource;
  }

  /**
   * Passes if Envoy would accept all of {@code resources}.
   *
   * @throws EnvoyValidationException listing every violation otherwise
   */
  public void requireValid(Iterable<? extends Message> resources) {
    throwIfAny(validate(resources));
  }

  /**
   * Passes if Envoy would accept every resource of {@code snapshot}.
   *
   * @throws EnvoyValidationException listing every violation otherwise
   */
  public void requireValid(Snapshot snapshot) {
    throwIfAny(validate(snapshot));
  }

  private static void throwIfAny(List<Violation> violations) {
    if (!violations.isEmpty()) {
      throw new EnvoyValidationException(violations);
    }
  }

  private void validateInto(Message resource, List<Violation> out) {
    String label = MessageWalker.describe(resource);
    MessageWalker.walk(resource, new MessageWalker.Visitor() {
      @Override
      public void message(String path, Message message, boolean typedByConfig) {
        checkOne(label, path, message, typedByConfig, out);
      }

      @Override
      public void unresolvedAny(String path, String problem) {
        out.add(new Violation(label, path, problem));
      }
    });
  }

  private void checkOne(
      String label, String path, Message message, boolean typedByConfig, List<Violation> out) {
    Descriptor type = message.getDescriptorForType();
    if (typedByConfig && EnvoyTypes.isRemovedEnvoyApi(type)) {
      out.add(new Violation(
          label,
          path,
          type.getFullName()
              + " is from Envoy's removed v2 API; Envoy v1.34 accepts only v3 types"));
      return;
    }
    Optional<ValidatorImpl<Message>> validator =
        validators.computeIfAbsent(message.getClass(), c -> lookup.find(message.getClass()));
    if (validator.isEmpty()) {
      if (EnvoyTypes.expectsGeneratedValidator(type)) {
        out.add(new Violation(
            label,
            path,
            "no generated PGV validator for "
                + type.getFullName()
                + " on the classpath, so Envoy's rules for it cannot be checked (expected "
                + validatorClassName(message.getClass())
                + ", generated from Envoy's protos at build time)"));
      }
    } else {
      try {
        // ALWAYS_VALID stops the generated code from recursing: the walk visits every nested
        // message itself, so each violation is reported once, with its full path.
        validator.get().assertValid(message, ValidatorIndex.ALWAYS_VALID);
      } catch (ValidationException e) {
        out.add(new Violation(label, MessageWalker.join(path, fieldOf(e, type)), reason(e)));
      } catch (RuntimeException e) {
        out.add(new Violation(
            label,
            path,
            "the PGV validator of "
                + type.getFullName()
                + " failed: "
                + e.getClass().getName()));
      }
    }
    LoadTimeRules.check(
        message,
        (field, problem) ->
            out.add(new Violation(label, MessageWalker.join(path, field), problem)));
  }

  /**
   * PGV prints the bounds of Duration rules in protobuf text format over several lines ({@code [,
   * seconds: 3600\n]}); say {@code [0s, 3600s]} instead.
   */
  private static String reason(ValidationException e) {
    String reason = WHITESPACE.matcher(String.valueOf(e.getReason())).replaceAll(" ");
    Matcher m = DURATION_TEXT.matcher(reason);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      long seconds = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
      String nanosText = m.group(2) != null ? m.group(2) : m.group(3);
      int nanos = nanosText == null ? 0 : Integer.parseInt(nanosText);
      String duration = Durations.toString(com.google.protobuf.Duration.newBuilder()
          .setSeconds(seconds)
          .setNanos(nanos)
          .build());
      m.appendReplacement(out, Matcher.quoteReplacement(duration));
    }
    m.appendTail(out);
    return out.toString()
        .replace("[, ", "[0s, ")
        .replace(", ]", ", 0s]")
        .replace(" ]", "]")
        .strip();
  }

  /** PGV names fields {@code .envoy.pkg.Message.field}; keep what follows the message's name. */
  private static String fieldOf(ValidationException e, Descriptor type) {
    String field = e.getField() == null ? "" : e.getField();
    String prefix = "." + type.getFullName() + ".";
    if (field.startsWith(prefix)) {
      return field.substring(prefix.length());
    }
    return field.substring(field.lastIndexOf('.') + 1);
  }

  /**
   * The generated validator, found the way {@code ReflectiveValidatorIndex} finds it ({@code
   * <OutermostClass>Validator.validatorFor(Class)}) but empty rather than always-valid when absent.
   */
  @SuppressWarnings("unchecked")
  static Optional<ValidatorImpl<Message>> generatedValidator(Class<? extends Message> type) {
    try {
      Class<?> validatorClass =
          Class.forName(validatorClassName(type), true, type.getClassLoader());
      Method factory = validatorClass.getDeclaredMethod("validatorFor", Class.class);
      return Optional.ofNullable((ValidatorImpl<Message>) factory.invoke(null, type));
    } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
      return Optional.empty();
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("PGV validator factory for " + type.getName() + " failed", e);
    }
  }

  private static String validatorClassName(Class<?> messageClass) {
    Class<?> outermost = messageClass;
    while (outermost.getEnclosingClass() != null) {
      outermost = outermost.getEnclosingClass();
    }
    return outermost.getName() + "Validator";
  }
}
