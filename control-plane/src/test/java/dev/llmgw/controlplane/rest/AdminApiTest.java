package dev.llmgw.controlplane.rest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.controlplane.model.Endpoint;
import dev.llmgw.controlplane.model.GatewaySpec;
import dev.llmgw.controlplane.model.Provider;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminApiTest {

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void healthzIsUnavailableUntilTheFirstSnapshotThenServing() throws Exception {
    SnapshotPublisher publisher =
        new SnapshotPublisher(new SimpleCache<>(node -> "default"), s -> {}, 0);
    try (AdminApi api = AdminApi.start("127.0.0.1", 0, publisher)) {
      HttpResponse<String> before = get(api, "/healthz");
      assertThat(before.statusCode()).isEqualTo(503);
      assertThat(before.body()).contains("\"status\":\"starting\"");

      publisher.publish(new GatewaySpec(
          10000,
          List.of(new Endpoint("127.0.0.1", 9002)),
          Duration.ofSeconds(1),
          List.of(Provider.fromUrl("openai", "https://api.openai.com", Duration.ofSeconds(5))),
          "openai",
          "/ca.pem"));

      HttpResponse<String> after = get(api, "/healthz");
      assertThat(after.statusCode()).isEqualTo(200);
      assertThat(after.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
      assertThat(after.body())
          .contains("\"status\":\"serving\"")
          .contains("\"snapshotVersion\":\"1-");
    }
  }

  @Test
  void unknownPathGetsJsonNotFound() throws Exception {
    SnapshotPublisher publisher =
        new SnapshotPublisher(new SimpleCache<>(node -> "default"), s -> {}, 0);
    try (AdminApi api = AdminApi.start("127.0.0.1", 0, publisher)) {
      HttpResponse<String> response = get(api, "/nope");
      assertThat(response.statusCode()).isEqualTo(404);
      assertThat(response.body()).contains("no such endpoint: GET /nope");
    }
  }

  private HttpResponse<String> get(AdminApi api, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
