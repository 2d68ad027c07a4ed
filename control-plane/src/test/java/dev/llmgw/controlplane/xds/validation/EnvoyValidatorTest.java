package dev.llmgw.controlplane.xds.validation;

import static dev.llmgw.controlplane.xds.validation.Fixtures.HTTP_PROTOCOL_OPTIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.KeyValue;
import io.envoyproxy.envoy.config.core.v3.KeyValueAppend;
import io.envoyproxy.envoy.config.core.v3.KeyValuePair;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.clusters.aggregate.v3.ClusterConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EnvoyValidatorTest {

  private static final String HCM_PATH =
      "filter_chains[0].filters[0].typed_config(HttpConnectionManager)";
  private static final String EXT_PROC_PATH =
      HCM_PATH + ".http_filters[0].typed_config(ExternalProcessor)";

  private final EnvoyValidator validator = new EnvoyValidator();

  @Test
  void acceptsTheGatewaysResources() {
    assertThat(validator.validate(Fixtures.listener())).isEmpty();
    assertThat(validator.validate(Fixtures.clusters())).isEmpty();
    assertThat(validator.validate(Fixtures.routes())).isEmpty();
    assertThat(validator.validate(Fixtures.allEndpoints())).isEmpty();
    assertThat(validator.validate(Fixtures.snapshot())).isEmpty();
  }

  @Test
  void findsEmptyStatPrefixOfHttpConnectionManagerInsideListenerAny() {
    Listener listener = Fixtures.listener(
        Fixtures.hcmBuilder(Fixtures.extProc()).setStatPrefix("").build());

    assertThat(validator.validate(listener))
        .containsExactly(new Violation(
            "listener 'ingress'",
            HCM_PATH + ".stat_prefix",
            "length must be at least 1 but got: 0"));
  }

  @Test
  void findsExtProcMessageTimeoutOutOfRangeTwoAnysDeep() {
    ExternalProcessor slow = Fixtures.extProc().toBuilder()
        .setMessageTimeout(Durations.fromSeconds(3601))
        .build();

    List<Violation> violations = validator.validate(Fixtures.listener(Fixtures.hcm(slow)));

    assertThat(violations).hasSize(1);
    assertThat(violations.get(0).path()).isEqualTo(EXT_PROC_PATH + ".message_timeout");
    assertThat(violations.get(0).message()).isEqualTo("must be in the range [0s, 3600s]");
  }

  @Test
  void findsExtProcFilterWithoutGrpcService() {
    ExternalProcessor noService =
        Fixtures.extProc().toBuilder().clearGrpcService().build();

    assertThat(validator.validate(Fixtures.listener(Fixtures.hcm(noService))))
        .singleElement()
        .satisfies(v -> {
          assertThat(v.path()).isEqualTo(EXT_PROC_PATH + ".grpc_service");
          assertThat(v.message()).contains("exactly one of grpc_service or http_service");
        });
  }

  @Test
  void findsSniLongerThanEnvoyAllowsInUpstreamTlsContext() {
    Cluster cluster =
        Fixtures.providerCluster("p", "api.example.com", Fixtures.tls("a".repeat(256)));

    assertThat(validator.validate(cluster))
        .containsExactly(new Violation(
            "cluster 'p'",
            "transport_socket.typed_config(UpstreamTlsContext).sni",
            "bytes length must be at most 255"));
  }

  @Test
  void findsAggregateClusterWithNoClusters() {
    Cluster aggregate = Fixtures.aggregate("empty", ClusterConfig.getDefaultInstance());

    assertThat(validator.validate(aggregate)).singleElement().satisfies(v -> {
      assertThat(v.path()).isEqualTo("cluster_type.typed_config(ClusterConfig).clusters");
      assertThat(v.message()).contains("at least 1");
    });
  }

  @Test
  void findsViolationsInsideMapValuedAnys() {
    HttpProtocolOptions badHttp2 = HttpProtocolOptions.newBuilder()
        .setExplicitHttpConfig(ExplicitHttpConfig.newBuilder()
            .setHttp2ProtocolOptions(
                Http2ProtocolOptions.newBuilder().setMaxConcurrentStreams(UInt32Value.of(0))))
        .build();
    Cluster cluster = Fixtures.extProcCluster().toBuilder()
        .putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS, Any.pack(badHttp2))
        .build();

    assertThat(validator.validate(cluster))
        .extracting(Violation::path)
        .containsExactly("typed_extension_protocol_options["
            + HTTP_PROTOCOL_OPTIONS
            + "](HttpProtocolOptions)"
            + ".explicit_http_config.http2_protocol_options.max_concurrent_streams");
  }

  @Test
  void reportsEveryViolatingMessageNotOnlyTheFirst() {
    ExternalProcessor slow = Fixtures.extProc().toBuilder()
        .setMessageTimeout(Durations.fromSeconds(7200))
        .build();
    Listener listener =
        Fixtures.listener(Fixtures.hcmBuilder(slow).setStatPrefix("").build());

    assertThat(validator.validate(listener))
        .extracting(Violation::path)
        .containsExactly(HCM_PATH + ".stat_prefix", EXT_PROC_PATH + ".message_timeout");
  }

  @Test
  void rejectsAnyWhoseTypeIsNotInEnvoysApi() {
    Any unknown = Any.newBuilder()
        .setTypeUrl("type.googleapis.com/acme.filters.Mystery")
        .setValue(ByteString.copyFromUtf8("x"))
        .build();
    HttpConnectionManager hcm = Fixtures.hcmBuilder(Fixtures.extProc())
        .setHttpFilters(
            0,
            Fixtures.httpFilter("acme", Router.getDefaultInstance()).toBuilder()
                .setTypedConfig(unknown))
        .build();

    assertThat(validator.validate(Fixtures.listener(hcm)))
        .containsExactly(new Violation(
            "listener 'ingress'",
            HCM_PATH + ".http_filters[0].typed_config",
            "unknown typed_config type type.googleapis.com/acme.filters.Mystery, expected a"
                + " type from Envoy's API"));
  }

  @Test
  void rejectsTypesOfEnvoysRemovedV2Api() {
    HttpConnectionManager hcm = Fixtures.hcmBuilder(Fixtures.extProc())
        .setHttpFilters(
            1,
            Fixtures.httpFilter(
                "envoy.filters.http.router",
                io.envoyproxy.envoy.config.filter.http.router.v2.Router.getDefaultInstance()))
        .build();

    assertThat(validator.validate(Fixtures.listener(hcm)))
        .extracting(Violation::message)
        .anySatisfy(m -> assertThat(m)
            .contains(
                "envoy.config.filter.http.router.v2.Router is from Envoy's removed v2" + " API"));
  }

  @Test
  void requiresRouterToBeTheLastHttpFilter() {
    HttpConnectionManager hcm = Fixtures.hcmBuilder(Fixtures.extProc())
        .clearHttpFilters()
        .addHttpFilters(
            Fixtures.httpFilter("envoy.filters.http.router", Router.getDefaultInstance()))
        .addHttpFilters(Fixtures.httpFilter("envoy.filters.http.ext_proc", Fixtures.extProc()))
        .build();

    assertThat(validator.validate(Fixtures.listener(hcm)))
        .extracting(Violation::path)
        .containsExactly(HCM_PATH + ".http_filters[0]", HCM_PATH + ".http_filters[1]");
  }

  @Test
  void validatesWhatATypedStructDescribes() {
    Struct slowExtProc = Struct.newBuilder()
        .putFields("message_timeout", Value.newBuilder().setStringValue("7200s").build())
        .putFields(
            "grpc_service",
            Value.newBuilder()
                .setStructValue(Struct.newBuilder()
                    .putFields(
                        "envoy_grpc",
                        Value.newBuilder()
                            .setStructValue(Struct.newBuilder()
                                .putFields(
                                    "cluster_name",
                                    Value.newBuilder()
                                        .setStringValue("ext_proc")
                                        .build()))
                            .build()))
                .build())
        .build();
    com.github.xds.type.v3.TypedStruct typedStruct = com.github.xds.type.v3.TypedStruct.newBuilder()
        .setTypeUrl("type.googleapis.com/" + ExternalProcessor.getDescriptor().getFullName())
        .setValue(slowExtProc)
        .build();
    HttpConnectionManager hcm = Fixtures.hcmBuilder(Fixtures.extProc())
        .setHttpFilters(0, Fixtures.httpFilter("envoy.filters.http.ext_proc", typedStruct))
        .build();

    assertThat(validator.validate(Fixtures.listener(hcm)))
        .extracting(Violation::path)
        .containsExactly(HCM_PATH
            + ".http_filters[0].typed_config(TypedStruct ExternalProcessor).message_timeout");
  }

  @Test
  void reportsAMissingGeneratedValidatorInsteadOfPassingSilently() {
    EnvoyValidator withoutRouterValidator = new EnvoyValidator(
        type -> type == Router.class ? Optional.empty() : EnvoyValidator.generatedValidator(type));

    assertThat(withoutRouterValidator.validate(Fixtures.listener()))
        .singleElement()
        .satisfies(v -> {
          assertThat(v.path()).isEqualTo(HCM_PATH + ".http_filters[1].typed_config(Router)");
          assertThat(v.message())
              .contains("no generated PGV validator for"
                  + " envoy.extensions.filters.http.router.v3.Router")
              .contains("io.envoyproxy.envoy.extensions.filters.http.router.v3.RouterValidator");
        });
  }

  @Test
  void followsPgvInSkippingFieldsMarkedSkip() {
    KeyValueAppend append = KeyValueAppend.newBuilder()
        .setRecord(KeyValuePair.newBuilder().setKey("x-llmgw"))
        .setEntry(KeyValue.newBuilder().setKey("")) // empty key breaks KeyValue's rules
        .build();

    assertThat(validator.validate(append)).isEmpty();
    assertThat(validator.validate(KeyValue.newBuilder().setKey("").build())).isNotEmpty();
  }

  @Test
  void requireValidListsEveryViolationWithResourceAndPath() {
    Listener listener = Fixtures.listener(
        Fixtures.hcmBuilder(Fixtures.extProc()).setStatPrefix("").build());

    assertThatThrownBy(() -> validator.requireValid(listener))
        .isInstanceOf(EnvoyValidationException.class)
        .hasMessageContaining("1 violation of Envoy's configuration rules")
        .hasMessageContaining(
            "listener 'ingress': " + HCM_PATH + ".stat_prefix: length must be at least 1")
        .satisfies(e -> assertThat(((EnvoyValidationException) e).violations()).hasSize(1));
    assertThat(validator.requireValid(Fixtures.listener())).isEqualTo(Fixtures.listener());
  }
}
