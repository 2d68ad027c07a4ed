package dev.llmgw.controlplane.xds.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EnvoyTypesTest {

  @Test
  void registryHoldsEveryTypeTheGatewayConfigures() {
    List<String> types = List.of(
        "envoy.config.bootstrap.v3.Bootstrap",
        "envoy.config.listener.v3.Listener",
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
        "envoy.extensions.filters.http.router.v3.Router",
        "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
        "envoy.config.cluster.v3.Cluster",
        "envoy.extensions.clusters.aggregate.v3.ClusterConfig",
        "envoy.config.endpoint.v3.ClusterLoadAssignment",
        "envoy.config.route.v3.RouteConfiguration",
        "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "envoy.extensions.transport_sockets.tls.v3.Secret",
        "envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
        "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "envoy.config.core.v3.HealthCheck",
        "envoy.config.cluster.v3.OutlierDetection",
        "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
        "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
        // found only by scanning the api jar, not reachable from the types above
        "envoy.extensions.filters.http.lua.v3.Lua",
        "envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin");

    assertThat(types)
        .allSatisfy(name ->
            assertThat(EnvoyTypes.descriptor("type.googleapis.com/" + name)).isPresent());
    assertThat(EnvoyTypes.scannedProtoFiles()).isGreaterThan(550);
    assertThat(types)
        .allSatisfy(
            name -> assertThat(EnvoyTypes.registry().find(name)).as(name).isNotNull());
    assertThat(EnvoyTypes.registry()).isSameAs(EnvoyTypes.registry());
  }

  @Test
  void resolvesNestedTypesTypesOfSingleClassFilesAndWellKnownTypes() {
    assertThat(EnvoyTypes.descriptor("envoy.config.route.v3.RouteAction.RequestMirrorPolicy"))
        .hasValueSatisfying(d -> assertThat(d.getName()).isEqualTo("RequestMirrorPolicy"));
    // udpa/annotations/status.proto has no java_outer_classname and no java_multiple_files
    assertThat(EnvoyTypes.descriptor("udpa.annotations.StatusAnnotation")).isPresent();
    assertThat(EnvoyTypes.descriptor("type.googleapis.com/google.protobuf.Struct"))
        .isPresent();
    assertThat(EnvoyTypes.descriptor("type.googleapis.com/envoy.config.route.v3.NoSuchType"))
        .isEmpty();
    assertThat(EnvoyTypes.descriptor("acme.v1.Thing")).isEmpty();
  }

  @Test
  void buildsSmallRegistriesForTheTypesADocumentNames() {
    JsonFormat.TypeRegistry registry = EnvoyTypes.registryOf(
        List.of("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"));

    assertThat(registry.find("envoy.extensions.filters.http.router.v3.Router")).isNotNull();
    assertThat(registry.find("envoy.extensions.filters.http.lua.v3.Lua")).isNull();
    assertThatThrownBy(() -> EnvoyTypes.registryOf(List.of("type.googleapis.com/acme.X")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown type type.googleapis.com/acme.X");
  }

  @Test
  void unpacksAnyIntoTheGeneratedClass() {
    ExternalProcessor extProc = Fixtures.extProc();

    Message unpacked = EnvoyTypes.unpack(Any.pack(extProc));

    assertThat(unpacked).isInstanceOf(ExternalProcessor.class).isEqualTo(extProc);
    assertThatThrownBy(() -> EnvoyTypes.unpack(
            Any.newBuilder().setTypeUrl("type.googleapis.com/acme.X").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unknown typed_config type type.googleapis.com/acme.X, expected a type from Envoy's"
                + " API");
  }

  /**
   * The rule that decides when a missing validator is a violation must match what the build
   * generates: a validator for every message of every Envoy file that imports validate.proto.
   */
  @Test
  void everyEnvoyTypeWithRulesHasAGeneratedValidatorAndNoOtherTypeNeedsOne() {
    List<String> missing = new ArrayList<>();
    int checked = 0;
    for (FileDescriptor file : EnvoyTypes.files()) {
      for (Descriptor type : allTypes(file.getMessageTypes())) {
        if (!EnvoyTypes.expectsGeneratedValidator(type)) {
          continue;
        }
        checked++;
        Optional<Message> instance = EnvoyTypes.defaultInstance(type);
        if (instance.isEmpty()
            || EnvoyValidator.generatedValidator(instance.get().getClass()).isEmpty()) {
          missing.add(type.getFullName());
        }
      }
    }

    assertThat(missing).isEmpty();
    assertThat(checked).isGreaterThan(1000);
    assertThat(EnvoyTypes.expectsGeneratedValidator(Duration.getDescriptor())).isFalse();
    assertThat(EnvoyValidator.generatedValidator(Duration.class)).isEmpty();
  }

  private static List<Descriptor> allTypes(List<Descriptor> types) {
    List<Descriptor> out = new ArrayList<>();
    for (Descriptor type : types) {
      out.add(type);
      out.addAll(allTypes(type.getNestedTypes()));
    }
    return out;
  }
}
