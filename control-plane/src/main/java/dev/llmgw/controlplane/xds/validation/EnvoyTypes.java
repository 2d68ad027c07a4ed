package dev.llmgw.controlplane.xds.validation;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every message type of Envoy's API that the {@code io.envoyproxy.controlplane:api} jar ships:
 * resolvable by type URL to its generated class (for unpacking {@code Any} fields so Envoy's PGV
 * rules can be applied to what they hold) and as {@link JsonFormat.TypeRegistry}s (for YAML/JSON
 * with {@code "@type"}).
 *
 * <p>The set is derived from the jar itself: each {@code .proto} file it ships names its proto
 * package and Java class ({@code java_package}, {@code java_outer_classname}, {@code
 * java_multiple_files}). Reading those headers takes a fraction of a second; a type's generated
 * class is then loaded only when a type URL names it, so validating or parsing costs only the types
 * actually used. {@link #registry()}, which needs every file's descriptor, is built on its first
 * call and cached. A fixed list of the types the gateway relies on is always known, even when the
 * jar's {@code .proto} files are stripped (for example by a shading step).
 */
public final class EnvoyTypes {

  private static final Logger LOG = LoggerFactory.getLogger(EnvoyTypes.class);

  /** A {@code .proto} file every api jar ships; where it is found, the others are too. */
  private static final String MARKER = "envoy/config/bootstrap/v3/bootstrap.proto";

  /** Roots of the files the build runs the PGV plugin over; see control-plane/pom.xml. */
  private static final List<String> VALIDATED_ROOTS = List.of("envoy/", "xds/", "udpa/");

  private static final Pattern PACKAGE =
      Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  private static final Pattern JAVA_PACKAGE =
      Pattern.compile("^\\s*option\\s+java_package\\s*=\\s*\"([\\w.]+)\"\\s*;", Pattern.MULTILINE);
  private static final Pattern JAVA_OUTER_CLASSNAME = Pattern.compile(
      "^\\s*option\\s+java_outer_classname\\s*=\\s*\"(\\w+)\"\\s*;", Pattern.MULTILINE);
  private static final Pattern JAVA_MULTIPLE_FILES =
      Pattern.compile("^\\s*option\\s+java_multiple_files\\s*=\\s*true\\s*;", Pattern.MULTILINE);

  /** Envoy v1.34 accepts only v3 resources and extension configs (v2 support was removed). */
  private static final Pattern ENVOY_V3_PACKAGE = Pattern.compile("envoy(\\.\\w+)*\\.v3(alpha)?");

  private EnvoyTypes() {}

  /**
   * A registry of every type of Envoy's API, for JSON parsers and printers that may meet any of
   * them. Its first call loads every file's descriptor (seconds on a small machine); where the
   * types are known in advance, {@link #registryOf(Collection)} is much cheaper.
   */
  public static JsonFormat.TypeRegistry registry() {
    return Full.INSTANCE.registry;
  }

  /**
   * A registry holding the named types and every type of the files they import, which is all a JSON
   * parser needs for a document whose {@code "@type"} values are {@code typeUrlsOrNames}.
   *
   * @throws IllegalArgumentException naming the first type that is not one of Envoy's API types
   */
  public static JsonFormat.TypeRegistry registryOf(Collection<String> typeUrlsOrNames) {
    requireNonNull(typeUrlsOrNames, "typeUrlsOrNames");
    JsonFormat.TypeRegistry.Builder builder = JsonFormat.TypeRegistry.newBuilder();
    for (String type : typeUrlsOrNames) {
      builder.add(descriptor(type)
          .orElseThrow(() -> new IllegalArgumentException(
              "unknown type " + type + ", expected a type from Envoy's API")));
    }
    return builder.build();
  }

  /**
   * The descriptor of the type a type URL ({@code type.googleapis.com/envoy.config...}) or a full
   * type name ({@code envoy.config...}) names, if it is one of Envoy's API types.
   */
  public static Optional<Descriptor> descriptor(String typeUrlOrName) {
    requireNonNull(typeUrlOrName, "typeUrlOrName");
    return defaultInstance(typeName(typeUrlOrName)).map(Message::getDescriptorForType);
  }

  /**
   * Unpacks an {@code Any} into the generated message class of the type it names.
   *
   * @throws IllegalArgumentException if the type is not one of Envoy's API types or the bytes do
   *     not parse as that type
   */
  public static Message unpack(Any any) {
    requireNonNull(any, "any");
    if (any.getTypeUrl().isEmpty()) {
      throw new IllegalArgumentException("Any has no type URL; expected a type from Envoy's API");
    }
    Message prototype = defaultInstance(typeName(any.getTypeUrl()))
        .orElseThrow(() -> new IllegalArgumentException("unknown typed_config type "
            + any.getTypeUrl()
            + ", expected a type from Envoy's API"));
    try {
      return prototype.getParserForType().parseFrom(any.getValue());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "Any of type "
              + any.getTypeUrl()
              + " does not hold a valid "
              + typeName(any.getTypeUrl()),
          e);
    }
  }

  /**
   * The default instance of the generated Java class of {@code type}, if it is on the classpath.
   */
  static Optional<Message> defaultInstance(Descriptor type) {
    return defaultInstance(type.getFullName())
        .filter(m -> m.getDescriptorForType().getFullName().equals(type.getFullName()));
  }

  /** The default instance of the generated class of the type with this full name, if known. */
  static Optional<Message> defaultInstance(String fullName) {
    Index index = Index.INSTANCE;
    Message known = index.instances.get(fullName);
    if (known != null) {
      return Optional.of(known);
    }
    Message loaded = index.load(fullName);
    if (loaded == null) {
      return Optional.empty(); // misses are not cached: type URLs may come from outside
    }
    index.instances.putIfAbsent(fullName, loaded);
    return Optional.of(loaded);
  }

  /** The full type name in a type URL: everything after the last '/'. */
  static String typeName(String typeUrlOrName) {
    return typeUrlOrName.substring(typeUrlOrName.lastIndexOf('/') + 1);
  }

  /** Every file of the full registry, dependencies included. */
  static Collection<FileDescriptor> files() {
    return Full.INSTANCE.files.values();
  }

  /** How many {@code .proto} files the api jar ships. */
  static int scannedProtoFiles() {
    return Index.INSTANCE.protoFiles.size();
  }

  /**
   * Whether the build generated a PGV validator for {@code type}: PGV's Java plugin writes one for
   * every message of every file it processes that imports {@code validate.proto}, and the build
   * processes the files under {@code envoy/}, {@code xds/} and {@code udpa/}.
   */
  static boolean expectsGeneratedValidator(Descriptor type) {
    if (type.getOptions().getMapEntry()) {
      return false;
    }
    FileDescriptor file = type.getFile();
    if (VALIDATED_ROOTS.stream().noneMatch(file.getName()::startsWith)) {
      return false;
    }
    return file.getDependencies().stream().anyMatch(d -> d.getName().endsWith("validate.proto"));
  }

  /** Whether {@code type} belongs to Envoy's removed v2 (or older) API. */
  static boolean isRemovedEnvoyApi(Descriptor type) {
    String pkg = type.getFile().getPackage();
    return pkg.startsWith("envoy.")
        && !pkg.equals("envoy.annotations")
        && !ENVOY_V3_PACKAGE.matcher(pkg).matches();
  }

  /** Loads {@code className} if it is a generated message of type {@code fullName}. */
  private static @Nullable Message generatedInstance(String className, String fullName) {
    try {
      Class<?> c = Class.forName(className, true, Bootstrap.class.getClassLoader());
      if (!Message.class.isAssignableFrom(c)) {
        return null;
      }
      @SuppressWarnings("unchecked")
      Message instance = Internal.getDefaultInstance((Class<? extends Message>) c);
      return instance.getDescriptorForType().getFullName().equals(fullName) ? instance : null;
    } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
      return null;
    }
  }

  /** The names protoc's Java generator gives the class of {@code type}, most likely first. */
  static List<String> javaClassNames(Descriptor type) {
    FileDescriptor file = type.getFile();
    FileOptions options = file.getOptions();
    ProtoFile header = new ProtoFile(
        file.getName(),
        file.getPackage(),
        options.hasJavaPackage() ? options.getJavaPackage() : file.getPackage(),
        options.hasJavaOuterClassname()
            ? options.getJavaOuterClassname()
            : defaultOuterClassName(file.getName()),
        options.getJavaMultipleFiles());
    return header.classNames(type.getFullName());
  }

  /** protoc's default outer class name: the file's base name in UpperCamelCase. */
  private static String defaultOuterClassName(String protoFileName) {
    String base = protoFileName.substring(protoFileName.lastIndexOf('/') + 1);
    if (base.endsWith(".proto")) {
      base = base.substring(0, base.length() - ".proto".length());
    }
    StringBuilder out = new StringBuilder(base.length());
    boolean upper = true;
    for (char c : base.toCharArray()) {
      if (Character.isLetter(c)) {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      } else if (Character.isDigit(c)) {
        out.append(c);
        upper = true;
      } else {
        upper = true;
      }
    }
    return out.toString();
  }

  /** The types the gateway's own resources and Envoy YAML use; known whatever the scan finds. */
  private static List<Descriptor> gatewayTypes() {
    return List.of(
        Bootstrap.getDescriptor(),
        Listener.getDescriptor(),
        HttpConnectionManager.getDescriptor(),
        ExternalProcessor.getDescriptor(),
        ExtProcPerRoute.getDescriptor(),
        Router.getDescriptor(),
        HeaderMutation.getDescriptor(),
        Cluster.getDescriptor(),
        ClusterConfig.getDescriptor(),
        ClusterLoadAssignment.getDescriptor(),
        RouteConfiguration.getDescriptor(),
        UpstreamTlsContext.getDescriptor(),
        DownstreamTlsContext.getDescriptor(),
        Secret.getDescriptor(),
        FileAccessLog.getDescriptor(),
        StdoutAccessLog.getDescriptor(),
        StderrAccessLog.getDescriptor(),
        HttpGrpcAccessLogConfig.getDescriptor(),
        ExpressionFilter.getDescriptor(),
        HttpProtocolOptions.getDescriptor(),
        HealthCheck.getDescriptor(),
        OutlierDetection.getDescriptor(),
        PreviousPrioritiesConfig.getDescriptor(),
        PreviousHostsPredicate.getDescriptor(),
        com.github.xds.type.v3.TypedStruct.getDescriptor(),
        com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor(),
        DiscoveryResponse.getDescriptor());
  }

  /**
   * The api jar's {@code .proto} headers by proto package, and the generated classes resolved so
   * far. Built on first use from text alone: no generated class is loaded.
   */
  private static final class Index {

    static final Index INSTANCE = new Index();

    final List<ProtoFile> protoFiles;
    final Map<String, List<ProtoFile>> byPackage = new HashMap<>();
    final Map<String, Message> instances = new ConcurrentHashMap<>();

    /** The gateway's types, for when the jar's .proto files cannot be listed; built if needed. */
    private volatile JsonFormat.@Nullable TypeRegistry gatewayRegistry;

    private Index() {
      long start = System.nanoTime();
      this.protoFiles = List.copyOf(protoFilesOfApiJar(Bootstrap.class.getClassLoader()));
      for (ProtoFile file : protoFiles) {
        byPackage.computeIfAbsent(file.protoPackage(), p -> new ArrayList<>()).add(file);
      }
      LOG.debug(
          "indexed {} .proto files of Envoy's API in {} ms",
          protoFiles.size(),
          (System.nanoTime() - start) / 1_000_000);
    }

    /** The generated default instance of the type named {@code fullName}, or null. */
    @Nullable
    Message load(String fullName) {
      if (fullName.startsWith("google.protobuf.")) {
        String relative = fullName.substring("google.protobuf.".length());
        return generatedInstance("com.google.protobuf." + relative.replace('.', '$'), fullName);
      }
      // The type's package is the longest prefix of its name that is a package of some file.
      for (int dot = fullName.lastIndexOf('.'); dot > 0; dot = fullName.lastIndexOf('.', dot - 1)) {
        List<ProtoFile> files = byPackage.get(fullName.substring(0, dot));
        if (files == null) {
          continue;
        }
        for (ProtoFile file : files) {
          for (String className : file.classNames(fullName)) {
            Message instance = generatedInstance(className, fullName);
            if (instance != null) {
              return instance;
            }
          }
        }
        break;
      }
      Descriptor fallback = gatewayRegistry().find(fullName);
      if (fallback == null) {
        return null;
      }
      for (String className : javaClassNames(fallback)) {
        Message instance = generatedInstance(className, fullName);
        if (instance != null) {
          return instance;
        }
      }
      return null;
    }

    private JsonFormat.TypeRegistry gatewayRegistry() {
      JsonFormat.TypeRegistry registry = gatewayRegistry;
      if (registry == null) {
        registry =
            JsonFormat.TypeRegistry.newBuilder().add(EnvoyTypes.gatewayTypes()).build();
        gatewayRegistry = registry;
      }
      return registry;
    }
  }

  /** Every file of Envoy's API with its dependencies, as descriptors; built on first use. */
  private static final class Full {

    static final Full INSTANCE = new Full();

    final JsonFormat.TypeRegistry registry;
    final Map<String, FileDescriptor> files;

    private Full() {
      long start = System.nanoTime();
      Map<String, FileDescriptor> collected = new LinkedHashMap<>();
      for (Descriptor type : gatewayTypes()) {
        addWithDependencies(collected, type.getFile());
      }
      for (ProtoFile proto : Index.INSTANCE.protoFiles) {
        FileDescriptor file = proto.load(Bootstrap.class.getClassLoader());
        if (file != null) {
          addWithDependencies(collected, file);
        }
      }
      JsonFormat.TypeRegistry.Builder builder = JsonFormat.TypeRegistry.newBuilder();
      collected.values().forEach(f -> builder.add(f.getMessageTypes()));
      this.registry = builder.build();
      this.files = Collections.unmodifiableMap(collected);
      LOG.debug(
          "Envoy type registry: {} files in {} ms",
          collected.size(),
          (System.nanoTime() - start) / 1_000_000);
    }

    private static void addWithDependencies(Map<String, FileDescriptor> into, FileDescriptor file) {
      if (into.putIfAbsent(file.getName(), file) != null) {
        return;
      }
      for (FileDescriptor dependency : file.getDependencies()) {
        addWithDependencies(into, dependency);
      }
    }
  }

  /** The {@code .proto} files next to {@link #MARKER}, from a jar or a class directory. */
  private static List<ProtoFile> protoFilesOfApiJar(ClassLoader loader) {
    URL marker = loader.getResource(MARKER);
    if (marker == null) {
      LOG.warn(
          "{} is not on the classpath; only the gateway's own Envoy types and their dependencies"
              + " are known",
          MARKER);
      return List.of();
    }
    try {
      if ("jar".equals(marker.getProtocol())) {
        return protoFilesInJar(marker);
      }
      if ("file".equals(marker.getProtocol())) {
        Path root = Path.of(marker.toURI());
        for (int i = 0; i < MARKER.split("/").length; i++) {
          root = requireNonNull(root.getParent(), "the marker lies below the class directory");
        }
        return protoFilesInDirectory(root);
      }
      LOG.warn(
          "cannot list Envoy's .proto files at {}; only the gateway's types are known", marker);
    } catch (IOException | URISyntaxException | RuntimeException e) {
      LOG.warn(
          "cannot list Envoy's .proto files at {}; only the gateway's types are known", marker, e);
    }
    return List.of();
  }

  private static List<ProtoFile> protoFilesInJar(URL marker) throws IOException {
    URLConnection connection = marker.openConnection();
    connection.setUseCaches(false);
    List<ProtoFile> out = new ArrayList<>();
    try (JarFile jar = ((JarURLConnection) connection).getJarFile()) {
      Enumeration<JarEntry> entries = jar.entries();
      while (entries.hasMoreElements()) {
        JarEntry entry = entries.nextElement();
        if (entry.isDirectory() || !entry.getName().endsWith(".proto")) {
          continue;
        }
        try (InputStream in = jar.getInputStream(entry)) {
          out.add(ProtoFile.parse(entry.getName(), new String(in.readAllBytes(), UTF_8)));
        }
      }
    }
    return out;
  }

  private static List<ProtoFile> protoFilesInDirectory(Path root) throws IOException {
    List<ProtoFile> out = new ArrayList<>();
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        if (path.toString().endsWith(".proto") && Files.isRegularFile(path)) {
          String name = root.relativize(path).toString().replace('\\', '/');
          out.add(ProtoFile.parse(name, Files.readString(path, UTF_8)));
        }
      }
    }
    return out;
  }

  /** What a {@code .proto} file's header says about the Java classes protoc generated for it. */
  private record ProtoFile(
      String name,
      String protoPackage,
      String javaPackage,
      String outerClassName,
      boolean multipleFiles) {

    static ProtoFile parse(String name, String text) {
      String pkg = group(PACKAGE, text);
      String javaPackage = group(JAVA_PACKAGE, text);
      String outer = group(JAVA_OUTER_CLASSNAME, text);
      return new ProtoFile(
          name,
          pkg != null ? pkg : "",
          javaPackage != null ? javaPackage : (pkg != null ? pkg : ""),
          outer != null ? outer : defaultOuterClassName(name),
          JAVA_MULTIPLE_FILES.matcher(text).find());
    }

    private static @Nullable String group(Pattern pattern, String text) {
      Matcher m = pattern.matcher(text);
      return m.find() ? m.group(1) : null;
    }

    /** Candidate class names for the message {@code fullName} of this file, most likely first. */
    List<String> classNames(String fullName) {
      String prefix = javaPackage.isEmpty() ? "" : javaPackage + ".";
      String relative =
          protoPackage.isEmpty() ? fullName : fullName.substring(protoPackage.length() + 1);
      String nested = relative.replace('.', '$');
      if (multipleFiles) {
        return List.of(prefix + nested);
      }
      return List.of(
          prefix + outerClassName + "$" + nested, prefix + outerClassName + "OuterClass$" + nested);
    }

    /** The file's descriptor from its generated outer class, or null if that class is absent. */
    @Nullable
    FileDescriptor load(ClassLoader loader) {
      String prefix = javaPackage.isEmpty() ? "" : javaPackage + ".";
      for (String className :
          List.of(prefix + outerClassName, prefix + outerClassName + "OuterClass")) {
        try {
          Class<?> outer = Class.forName(className, true, loader);
          Object descriptor = outer.getMethod("getDescriptor").invoke(null);
          if (descriptor instanceof FileDescriptor file && file.getName().equals(name)) {
            return file;
          }
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
          // not generated into this jar (for example google/api/*.proto); try the next name
        }
      }
      LOG.trace("no generated Java class for {}", name);
      return null;
    }
  }
}
