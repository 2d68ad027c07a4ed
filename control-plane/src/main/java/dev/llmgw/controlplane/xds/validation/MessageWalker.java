package dev.llmgw.controlplane.xds.validation;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.pgv.validate.Validate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Visits every message inside an Envoy resource, depth first, with its path from the resource
 * ({@code filter_chains[0].filters[0].typed_config(HttpConnectionManager).http_filters[1]}).
 *
 * <p>Each {@code google.protobuf.Any} is unpacked into the generated class of the type it names and
 * walked in turn, wherever it sits (singular, repeated, map value, or inside another Any). A {@code
 * TypedStruct} ({@code xds.type.v3} or {@code udpa.type.v1}) is converted into the type it names,
 * as Envoy does. Fields PGV is told to skip ({@code (validate.rules).message.skip}) are not
 * entered.
 */
final class MessageWalker {

  private static final String ANY = "google.protobuf.Any";
  private static final List<String> TYPED_STRUCTS =
      List.of("xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct");

  /** What the walk reports. */
  interface Visitor {

    /**
     * Called for every message reached, the root included.
     *
     * @param typedByConfig true for the root and for messages unpacked from an Any, whose type the
     *     configuration chose rather than the schema
     */
    void message(String path, Message message, boolean typedByConfig);

    /** Called for an Any whose content cannot be turned into one of Envoy's types. */
    void unresolvedAny(String path, String problem);
  }

  private MessageWalker() {}

  static void walk(Message root, Visitor visitor) {
    visit("", generated(root), true, visitor);
  }

  /**
   * A DynamicMessage (or other non-generated message) as its generated class, when there is one.
   */
  private static Message generated(Message message) {
    if (message instanceof com.google.protobuf.GeneratedMessageV3) {
      return message;
    }
    Optional<Message> prototype = EnvoyTypes.defaultInstance(message.getDescriptorForType());
    if (prototype.isEmpty()) {
      return message;
    }
    try {
      return prototype.get().getParserForType().parseFrom(message.toByteString());
    } catch (InvalidProtocolBufferException e) {
      return message;
    }
  }

  private static void visit(String path, Message message, boolean typedByConfig, Visitor visitor) {
    visitor.message(path, message, typedByConfig);
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || skippedByPgv(field)) {
        continue;
      }
      String fieldPath = join(path, field.getName());
      if (field.isMapField()) {
        for (Object item : (List<?>) entry.getValue()) {
          Message mapEntry = (Message) item;
          Descriptor entryType = mapEntry.getDescriptorForType();
          Object key = mapEntry.getField(entryType.findFieldByName("key"));
          FieldDescriptor valueField = entryType.findFieldByName("value");
          if (valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            child(fieldPath + "[" + key + "]", (Message) mapEntry.getField(valueField), visitor);
          }
        }
      } else if (field.isRepeated()) {
        List<?> items = (List<?>) entry.getValue();
        for (int i = 0; i < items.size(); i++) {
          child(fieldPath + "[" + i + "]", (Message) items.get(i), visitor);
        }
      } else {
        child(fieldPath, (Message) entry.getValue(), visitor);
      }
    }
  }

  private static void child(String path, Message message, Visitor visitor) {
    if (!message.getDescriptorForType().getFullName().equals(ANY)) {
      visit(path, message, false, visitor);
      return;
    }
    Any any;
    try {
      any = message instanceof Any a ? a : Any.parseFrom(message.toByteString());
    } catch (InvalidProtocolBufferException e) {
      visitor.unresolvedAny(path, "is not a valid google.protobuf.Any");
      return;
    }
    if (any.getTypeUrl().isEmpty()) {
      visitor.unresolvedAny(path, "has no type URL; expected a type from Envoy's API");
      return;
    }
    Message unpacked;
    try {
      unpacked = EnvoyTypes.unpack(any);
    } catch (IllegalArgumentException e) {
      visitor.unresolvedAny(
          path, requireNonNull(e.getMessage(), "unpack's exceptions say what was wrong"));
      return;
    }
    String typeName = unpacked.getDescriptorForType().getFullName();
    if (TYPED_STRUCTS.contains(typeName)) {
      fromTypedStruct(path, unpacked, visitor);
      return;
    }
    visit(path + "(" + unpacked.getDescriptorForType().getName() + ")", unpacked, true, visitor);
  }

  /** Converts a TypedStruct into the message it describes, as Envoy does, and walks that. */
  private static void fromTypedStruct(String path, Message typedStruct, Visitor visitor) {
    Descriptor type = typedStruct.getDescriptorForType();
    String typeUrl = (String) typedStruct.getField(type.findFieldByName("type_url"));
    Struct value = (Struct) typedStruct.getField(type.findFieldByName("value"));
    Optional<Message> prototype =
        EnvoyTypes.descriptor(typeUrl).flatMap(EnvoyTypes::defaultInstance);
    if (typeUrl.isEmpty() || prototype.isEmpty()) {
      visitor.unresolvedAny(
          path + "(TypedStruct)",
          "unknown typed_config type " + typeUrl + ", expected a type from Envoy's API");
      return;
    }
    Message.Builder builder = prototype.get().newBuilderForType();
    try {
      List<String> nestedTypes = new ArrayList<>();
      collectTypeUrls(Value.newBuilder().setStructValue(value).build(), nestedTypes);
      JsonFormat.parser()
          .usingTypeRegistry(EnvoyTypes.registryOf(nestedTypes))
          .merge(JsonFormat.printer().print(value), builder);
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      visitor.unresolvedAny(
          path + "(TypedStruct)",
          "value does not describe a " + EnvoyTypes.typeName(typeUrl) + ": " + e.getMessage());
      return;
    }
    Message converted = builder.build();
    visit(
        path + "(TypedStruct " + converted.getDescriptorForType().getName() + ")",
        converted,
        true,
        visitor);
  }

  /** The "@type" values anywhere in a Struct, where a TypedStruct holds nested Any fields. */
  private static void collectTypeUrls(Value value, List<String> into) {
    if (value.hasStructValue()) {
      Value type = value.getStructValue().getFieldsMap().get("@type");
      if (type != null && type.hasStringValue()) {
        into.add(type.getStringValue());
      }
      value.getStructValue().getFieldsMap().values().forEach(v -> collectTypeUrls(v, into));
    } else if (value.hasListValue()) {
      value.getListValue().getValuesList().forEach(v -> collectTypeUrls(v, into));
    }
  }

  private static boolean skippedByPgv(FieldDescriptor field) {
    var options = field.getOptions();
    if (!options.hasExtension(Validate.rules)) {
      return false;
    }
    Validate.FieldRules rules = options.getExtension(Validate.rules);
    return rules.hasMessage() && rules.getMessage().getSkip();
  }

  static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /**
   * How a resource is named in messages: its type in words plus its name, for example {@code
   * listener 'llmgw_ingress'} or {@code cluster load assignment 'llmgw_ext_proc'}.
   */
  static String describe(Message resource) {
    Descriptor type = resource.getDescriptorForType();
    String kind = words(type.getName());
    for (String nameField : List.of("name", "cluster_name")) {
      FieldDescriptor field = type.findFieldByName(nameField);
      if (field != null
          && !field.isRepeated()
          && field.getJavaType() == FieldDescriptor.JavaType.STRING) {
        String name = (String) resource.getField(field);
        if (!name.isEmpty()) {
          return kind + " '" + name + "'";
        }
      }
    }
    return kind;
  }

  /** {@code RouteConfiguration} becomes {@code route configuration}. */
  private static String words(String camelCase) {
    StringBuilder out = new StringBuilder(camelCase.length() + 4);
    for (int i = 0; i < camelCase.length(); i++) {
      char c = camelCase.charAt(i);
      if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(camelCase.charAt(i - 1))) {
        out.append(' ');
      }
      out.append(c);
    }
    return out.toString().toLowerCase(Locale.ROOT);
  }
}
