package dev.llmgw.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.xds.SnapshotPublisher;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the whole control plane process during a stream of REST writes: after a restart,
 * every write that was acknowledged is there, and snapshot versions continue above the last one
 * acknowledged.
 */
class ControlPlaneCrashTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir
  Path dataDir;

  @Test
  void acknowledgedWritesSurviveKillDashNineAndVersionsContinue() throws Exception {
    Map<String, Integer> acked = new LinkedHashMap<>();
    long lastAckedVersion = 0;
    int next = 0;
    for (int round = 0; round < 2; round++) {
      ControlPlaneProcess cp = ControlPlaneProcess.start(dataDir, "crash-test-admin-token-01");
      try {
        int port = cp.restPort;
        for (Map.Entry<String, Integer> e : acked.entrySet()) {
          HttpResponse<String> r = get(port, "/v1/providers/" + e.getKey());
          assertThat(r.statusCode())
              .as("acknowledged provider %s after restart", e.getKey())
              .isEqualTo(200);
          assertThat(JSON.readTree(r.body()).get("connect_timeout_ms").asInt())
              .isEqualTo(e.getValue());
        }
        JsonNode health = JSON.readTree(get(port, "/healthz").body());
        assertThat(SnapshotPublisher.number(health.get("snapshotVersion").asText()))
            .as("snapshot version after restart")
            .isGreaterThanOrEqualTo(lastAckedVersion);
        int writesThisRound = 40 + round * 7;
        for (int i = 0; i < writesThisRound; i++, next++) {
          String name = "p" + next;
          int timeout = 1000 + next;
          HttpResponse<String> r = put(
              port,
              "/v1/providers/" + name,
              "{\"base_url\":\"https://" + name + ".example\",\"connect_timeout_ms\":" + timeout
                  + "}");
          assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
          acked.put(name, timeout);
          long version = SnapshotPublisher.number(
              r.headers().firstValue("X-Snapshot-Version").orElseThrow());
          assertThat(version).as("versions only go up").isGreaterThan(lastAckedVersion);
          lastAckedVersion = version;
        }
        // A write in flight when the process dies may or may not land; only acknowledged ones must.
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
            putRequest(
                port, "/v1/providers/inflight", "{\"base_url\":\"https://inflight.example\"}"),
            HttpResponse.BodyHandlers.ofString());
        cp.kill();
        assertThat(cp.process.isAlive()).isFalse();
        inFlight.handle((r, t) -> r);
      } finally {
        cp.kill();
      }
    }
    ControlPlaneProcess cp = ControlPlaneProcess.start(dataDir, "crash-test-admin-token-01");
    try {
      int port = cp.restPort;
      JsonNode list = JSON.readTree(get(port, "/v1/providers").body());
      assertThat(list.get("items").findValuesAsText("name")).containsAll(acked.keySet());
      HttpResponse<String> after =
          put(port, "/v1/providers/after-crash", "{\"base_url\":\"https://after.example\"}");
      assertThat(SnapshotPublisher.number(
              after.headers().firstValue("X-Snapshot-Version").orElseThrow()))
          .isGreaterThan(lastAckedVersion);
    } finally {
      cp.kill();
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer crash-test-admin-token-01")
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> put(int port, String path, String body) throws Exception {
    return http.send(putRequest(port, path, body), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest putRequest(int port, String path, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .PUT(HttpRequest.BodyPublishers.ofString(body))
        .header("Authorization", "Bearer crash-test-admin-token-01")
        .build();
  }
}
