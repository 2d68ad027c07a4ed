package dev.llmgw.controlplane.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgw.controlplane.ControlPlane;
import dev.llmgw.controlplane.ControlPlaneConfig;
import dev.llmgw.controlplane.xds.EnvoyContractCheck;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays the hostile REST requests of issue 18 (findings 10 and 11): oversized bodies, bad names in
 * the path, a lower-case auth scheme, reads without a token and writes with the read-only token.
 */
class HostileRestInputTest {

  private static final String ADMIN = "hostile-admin-token-0123456789";
  private static final String READ_ONLY = "hostile-read-only-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dataDir;

  private ControlPlane cp;

  private ControlPlane start(String... extra) {
    String[] args = Stream.concat(
            Stream.of(
                "--xds-port=0",
                "--admin-port=0",
                "--bind-host=127.0.0.1",
                "--ext-proc=127.0.0.1:9002",
                "--store=memory",
                "--data-dir=" + dataDir,
                "--admin-token=" + ADMIN,
                "--read-only-token=" + READ_ONLY),
            Stream.of(extra))
        .toArray(String[]::new);
    cp = ControlPlane.start(
        ControlPlaneConfig.fromArgs(args, Map.of()),
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        new EnvoyContractCheck());
    return cp;
  }

  @AfterEach
  void stop() {
    if (cp != null) {
      cp.close();
    }
  }

  @Test
  void aBodyOverOneMegabyteIsA413InTheApiErrorShapeWhetherOrNotItDeclaresItsLength()
      throws Exception {
    start();
    byte[] big = padded("{\"base_url\":\"https://x.example\"}", ConfigApi.MAX_BODY_BYTES + 1);

    HttpResponse<String> declared =
        send("PUT", "/v1/providers/x", HttpRequest.BodyPublishers.ofByteArray(big), ADMIN);
    assertError(declared, 413, "request_too_large", "(body)")
        .contains("1000001 bytes")
        .contains("expected: at most 1000000 bytes");

    HttpResponse<String> chunked = send(
        "PUT",
        "/v1/providers/x",
        HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)),
        ADMIN);
    assertError(chunked, 413, "request_too_large", "(body)").contains("more than 1000000 bytes");
    assertThat(get("/v1/providers/x", ADMIN).statusCode()).as("nothing stored").isEqualTo(404);

    HttpResponse<String> atTheLimit = send(
        "PUT",
        "/v1/providers/x",
        HttpRequest.BodyPublishers.ofByteArray(
            padded("{\"base_url\":\"https://x.example\"}", ConfigApi.MAX_BODY_BYTES)),
        ADMIN);
    assertThat(atTheLimit.statusCode()).as(atTheLimit.body()).isEqualTo(201);
  }

  @Test
  void badProviderRouteAndModelNamesNameTheFieldAtFault() throws Exception {
    start();
    assertError(
            put("/v1/providers/Bad_Name", "{\"base_url\":\"https://x.example\"}"),
            400,
            "invalid_request",
            "name")
        .contains("name: 'Bad_Name'");
    assertError(
            put("/v1/routes/Bad_Name", "{\"targets\":[{\"provider\":\"openai\"}]}"),
            400,
            "invalid_request",
            "name")
        .contains("name: 'Bad_Name'");
    assertError(
            put("/v1/models/bad%20name", "{\"route\":\"openai\",\"model\":\"gpt-4o\"}"),
            400,
            "invalid_request",
            "name")
        .contains("name: 'bad name'");
    assertError(
            put("/v1/models/fast", "{\"route\":\"Open AI\",\"model\":\"gpt-4o\"}"),
            400,
            "invalid_request",
            "route")
        .contains("route: 'Open AI'");
  }

  @Test
  void policyDocumentNamesWithPathSegmentsControlOrBidiCharactersAreRefused() throws Exception {
    start();
    Map<String, String> bodies = Map.of(
        "pii-policies", "{\"applies_to\":\"default\",\"entities\":{\"email\":\"mask\"}}",
        "budgets",
            "{\"scope\":\"tenant\",\"id\":\"acme\",\"period\":\"daily\",\"limit_usd\":\"1\"}",
        "rate-limits", "{\"scope\":\"tenant\",\"id\":\"acme\",\"tokens_per_minute\":1000}",
        "keys", "{\"api_key_id\":\"key_0123456789ab\",\"tenant\":\"acme\"}",
        "prices", "{\"input\":\"1\",\"source\":\"contract\",\"as_of\":\"2026-01-01\"}",
        "tenants", "{\"models\":{}}");
    // "../x", "a\r\nX-Injected: 1", "a\u202Eb" (right-to-left override) and ".." itself.
    List<String> hostile = List.of("..%2Fx", "a%0D%0AX-Injected:%201", "a%E2%80%AEb", "..");
    for (var kind : bodies.entrySet()) {
      for (String name : hostile) {
        HttpResponse<String> r = put("/v1/" + kind.getKey() + "/" + name, kind.getValue());
        assertThat(r.statusCode())
            .as(kind.getKey() + "/" + name + ": " + r.body())
            .isEqualTo(400);
        assertThat(r.headers().firstValue("content-type"))
            .as(kind.getKey() + "/" + name)
            .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
      }
      HttpResponse<String> crlf = put("/v1/" + kind.getKey() + "/a%0D%0Ab", kind.getValue());
      assertThat(error(crlf).path("field").asText()).as(kind.getKey()).isEqualTo("name");
    }
    assertThat(put("/v1/pii-policies/Research", bodies.get("pii-policies")).statusCode())
        .as("named like a provider: lower case")
        .isEqualTo(400);
    assertThat(put("/v1/prices/gpt-4.1", bodies.get("prices")).statusCode())
        .as("prices are named by the model they price, which may hold dots")
        .isEqualTo(201);
    assertThat(put("/v1/tenants/Acme.Corp", bodies.get("tenants")).statusCode())
        .as("tenants are named by the tenant ext-proc resolves")
        .isEqualTo(201);
  }

  @Test
  void theBearerSchemeIsCaseInsensitive() throws Exception {
    start();
    for (String scheme : List.of("bearer", "BEARER", "Bearer")) {
      HttpRequest request = HttpRequest.newBuilder(uri("/v1/providers/openai"))
          .header("Authorization", scheme + " " + ADMIN)
          .GET()
          .build();
      assertThat(http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode())
          .as(scheme)
          .isEqualTo(200);
    }
  }

  @Test
  void readsNeedATokenAndTheReadOnlyTokenCannotWrite() throws Exception {
    start();
    for (String path : List.of("/v1/providers", "/v1/keys", "/v1/tenants/acme", "/v1/spend")) {
      HttpResponse<String> none = get(path, null);
      assertError(none, 401, "unauthorized", "Authorization")
          .contains("need an admin or read-only token");
      assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
      assertError(get(path, "wrong-token-0123456789abcdef"), 403, "forbidden", "Authorization");
    }
    assertThat(get("/v1/providers", READ_ONLY).statusCode()).isEqualTo(200);
    assertThat(get("/v1/spend", READ_ONLY).statusCode()).isEqualTo(200);
    assertThat(get("/v1/providers", ADMIN).statusCode()).isEqualTo(200);
    assertThat(get("/openapi.json", null).statusCode())
        .as("the schema holds no data")
        .isEqualTo(200);
    assertThat(get("/healthz", null).statusCode()).as("probes need no secret").isEqualTo(200);

    for (String method : List.of("PUT", "DELETE")) {
      HttpResponse<String> write = send(
          method,
          "/v1/providers/openai",
          HttpRequest.BodyPublishers.ofString("{\"base_url\":\"https://api.openai.com\"}"),
          READ_ONLY);
      assertError(write, 403, "forbidden", "Authorization")
          .contains("the read-only token cannot be used for writes (expected: the admin token)");
    }
    assertThat(put(
                "/v1/budgets/b",
                "{\"scope\":\"tenant\",\"id\":\"a\",\"period\":\"daily\"," + "\"limit_usd\":\"1\"}")
            .statusCode())
        .as("the admin token writes")
        .isEqualTo(201);
  }

  @Test
  void openReadsNeedNoTokenButWritesStillDo() throws Exception {
    start("--open-reads=true");
    assertThat(get("/v1/keys", null).statusCode()).isEqualTo(200);
    assertThat(get("/v1/spend", null).statusCode()).isEqualTo(200);
    assertError(
        send(
            "PUT",
            "/v1/providers/x",
            HttpRequest.BodyPublishers.ofString("{\"base_url\":\"https://x.example\"}"),
            null),
        401,
        "unauthorized",
        "Authorization");
  }

  private static byte[] padded(String json, int length) {
    byte[] out = new byte[length];
    java.util.Arrays.fill(out, (byte) ' ');
    byte[] doc = json.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(doc, 0, out, 0, doc.length);
    return out;
  }

  private HttpResponse<String> put(String path, String body) throws Exception {
    return send("PUT", path, HttpRequest.BodyPublishers.ofString(body), ADMIN);
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    return send("GET", path, HttpRequest.BodyPublishers.noBody(), token);
  }

  private HttpResponse<String> send(
      String method, String path, HttpRequest.BodyPublisher body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
        .method(method, body)
        .header("content-type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + cp.adminPort() + path);
  }

  private static JsonNode error(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).path("error");
  }

  /** Asserts status and error shape; returns an assertion on the message. */
  private static org.assertj.core.api.AbstractStringAssert<?> assertError(
      HttpResponse<String> r, int status, String type, String field) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    JsonNode e = error(r);
    assertThat(e.path("type").asText()).as(r.body()).isEqualTo(type);
    assertThat(e.path("field").asText()).as(r.body()).isEqualTo(field);
    return assertThat(e.path("message").asText());
  }
}
