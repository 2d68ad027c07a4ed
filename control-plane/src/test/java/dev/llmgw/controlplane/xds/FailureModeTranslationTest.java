package dev.llmgw.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.xds.validation.CrossReferenceChecker;
import dev.llmgw.controlplane.xds.validation.EnvoyValidator;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What Envoy does on its own when ext-proc fails: which ext_proc instance a route runs, and its error replies. */
class FailureModeTranslationTest {

  private static final Provider OPENAI =
      Provider.fromUrl("openai", "https://api.openai.com", Duration.ofSeconds(5));
  private static final Provider LOCAL =
      Provider.fromUrl("local", "http://127.0.0.1:8081", Duration.ofSeconds(2));
  private static final dev.llmgw.controlplane.model.Route CHAT =
      new dev.llmgw.controlplane.model.Route(
          "chat",
          List.of(new dev.llmgw.controlplane.model.Route.Target("openai", 1, 0)),
          null,
          Duration.ZERO,
          null);

  @Test
  void theFailOpenExtProcDiffersOnlyInFailureModeAllowAndIsOffUnlessARouteTurnsItOn()
      throws Exception {
    HttpFilter closed = HttpFilterFactory.extProc(Duration.ofMillis(800));
    HttpFilter open = HttpFilterFactory.extProcFailOpen(Duration.ofMillis(800));

    assertThat(closed.getDisabled()).isFalse();
    assertThat(open.getDisabled()).isTrue();
    assertThat(open.getName())
        .isNotEqualTo(closed.getName())
        .doesNotStartWith("envoy.filters.http.");
    ExternalProcessor closedConfig = closed.getTypedConfig().unpack(ExternalProcessor.class);
    ExternalProcessor openConfig = open.getTypedConfig().unpack(ExternalProcessor.class);
    assertThat(closedConfig.getFailureModeAllow()).isFalse();
    assertThat(openConfig.getFailureModeAllow()).isTrue();
    assertThat(openConfig.toBuilder().setFailureModeAllow(false).build()).isEqualTo(closedConfig);
  }

  @Test
  void aFailOpenRouteTakesOutTheFailClosedExtProcAndTurnsOnTheFailOpenOne() throws Exception {
    Map<String, Any> perRoute = HttpFilterFactory.failOpenPerRoute();

    assertThat(perRoute)
        .containsOnlyKeys(
            HttpFilterFactory.EXT_PROC_FILTER, HttpFilterFactory.EXT_PROC_FAIL_OPEN_FILTER);
    assertThat(perRoute
            .get(HttpFilterFactory.EXT_PROC_FILTER)
            .unpack(FilterConfig.class)
            .getDisabled())
        .isTrue();
    ExtProcPerRoute enable =
        perRoute.get(HttpFilterFactory.EXT_PROC_FAIL_OPEN_FILTER).unpack(ExtProcPerRoute.class);
    assertThat(enable.getDisabled()).isFalse();
    assertThat(enable.hasOverrides()).isTrue();
  }

  @Test
  void onlyRoutesOfFailOpenProvidersAndRoutesSwitchAndTheDefaultRouteFailsAsTheDefaultProvider() {
    RouteConfiguration config = RouteFactory.routes(
        List.of(OPENAI, LOCAL), "local", List.of(CHAT), Set.of(), Set.of("chat", "local"));

    Map<String, Route> byName = new java.util.HashMap<>();
    config.getVirtualHosts(0).getRoutesList().forEach(r -> byName.put(r.getName(), r));
    assertThat(byName.get("route_chat").getTypedPerFilterConfigMap())
        .isEqualTo(HttpFilterFactory.failOpenPerRoute());
    assertThat(byName.get("provider_local").getTypedPerFilterConfigMap())
        .isEqualTo(HttpFilterFactory.failOpenPerRoute());
    assertThat(byName.get("default").getTypedPerFilterConfigMap())
        .isEqualTo(HttpFilterFactory.failOpenPerRoute());
    assertThat(byName.get("provider_openai").getTypedPerFilterConfigMap()).isEmpty();

    RouteConfiguration closed = RouteFactory.routes(
        List.of(OPENAI, LOCAL), "openai", List.of(CHAT), Set.of(), Set.of("local"));
    assertThat(closed.getVirtualHosts(0).getRoutesList())
        .filteredOn(r -> r.getName().equals("default"))
        .singleElement()
        .satisfies(r -> assertThat(r.getTypedPerFilterConfigMap()).isEmpty());
  }

  @Test
  void
      envoysOwnErrorsGetTheAnthropicShapeOnMessagesAndTheOpenAiShapeElsewhereButExtProcRepliesAreLeftAlone()
          throws Exception {
    LocalReplyConfig config = LocalReplyFactory.apiShaped();

    assertThat(config.getMappersList()).hasSize(4).allSatisfy(m -> {
      assertThat(celExpressions(m.getFilter()))
          .containsExactly(LocalReplyFactory.NOT_EXT_PROC_REPLY);
      assertThat(m.getBodyFormatOverride().getContentType()).isEqualTo("application/json");
      assertThat(m.getHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-llmgw-error");
    });
    assertThat(LocalReplyFactory.NOT_EXT_PROC_REPLY)
        .isEqualTo("!('x-llmgw-error' in response.headers)");
    ResponseMapper anthropic5xx = config.getMappers(0);
    assertThat(anthropic5xx.getFilter().getAndFilter().getFiltersList())
        .anySatisfy(
            f -> assertThat(f.getHeaderFilter().getHeader().getStringMatch().getPrefix())
                .isEqualTo("/v1/messages"))
        .anySatisfy(
            f -> assertThat(f.getStatusCodeFilter().getComparison().getValue().getDefaultValue())
                .isEqualTo(500));
    assertThat(anthropic5xx
            .getBodyFormatOverride()
            .getJsonFormat()
            .getFieldsOrThrow("type")
            .getStringValue())
        .isEqualTo("error");
    assertThat(anthropic5xx
            .getBodyFormatOverride()
            .getJsonFormat()
            .getFieldsOrThrow("error")
            .getStructValue()
            .getFieldsOrThrow("type")
            .getStringValue())
        .isEqualTo("api_error");
    ResponseMapper openAiAnything = config.getMappers(3);
    assertThat(openAiAnything.getFilter().hasExtensionFilter()).isTrue();
    assertThat(openAiAnything
            .getBodyFormatOverride()
            .getJsonFormat()
            .getFieldsOrThrow("error")
            .getStructValue()
            .getFieldsOrThrow("message")
            .getStringValue())
        .contains("%RESPONSE_CODE_DETAILS%", "%LOCAL_REPLY_BODY%");
  }

  @Test
  void aSnapshotWithFailOpenRoutesPassesEnvoysRulesAndIsWhole() {
    GatewaySpec spec = new GatewaySpec(
        10000,
        List.of(new Endpoint("127.0.0.1", 9002)),
        Duration.ofMillis(500),
        List.of(OPENAI, LOCAL),
        "local",
        "/ca.pem",
        List.of(CHAT),
        Map.of(),
        Set.of(),
        Set.of("local", "chat"));

    Snapshot snapshot = SnapshotFactory.snapshot(spec, "1");

    assertThat(new EnvoyValidator().validate(snapshot)).isEmpty();
    assertThat(CrossReferenceChecker.standalone().check(snapshot)).isEmpty();
  }

  @Test
  void failOpenNamesMustBeProvidersOrRoutesAndFollowTheirFleets() {
    assertThatThrownBy(() -> new GatewaySpec(
            10000,
            List.of(new Endpoint("127.0.0.1", 9002)),
            Duration.ofMillis(500),
            List.of(OPENAI),
            "openai",
            "/ca.pem",
            List.of(),
            Map.of(),
            Set.of(),
            Set.of("nope")))
        .hasMessageContaining("failOpen: 'nope'");

    GatewaySpec spec = new GatewaySpec(
        10000,
        List.of(new Endpoint("127.0.0.1", 9002)),
        Duration.ofMillis(500),
        List.of(OPENAI, LOCAL),
        "openai",
        "/ca.pem",
        List.of(),
        Map.of("local", Set.of("edge")),
        Set.of(),
        Set.of("local"));
    assertThat(spec.forFleet("edge").failsOpen("local")).isTrue();
    assertThat(spec.forFleet(null).failOpen()).isEmpty();
  }

  private static List<String> celExpressions(AccessLogFilter filter) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    if (filter.hasExtensionFilter()) {
      out.add(filter
          .getExtensionFilter()
          .getTypedConfig()
          .unpack(ExpressionFilter.class)
          .getExpression());
    }
    for (AccessLogFilter f : filter.getAndFilter().getFiltersList()) {
      out.addAll(celExpressions(f));
    }
    return out;
  }
}
