package dev.llmgw.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgw.controlplane.mockprovider.MockProvider;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Provider credentials configured over REST reach the provider from Envoy's upstream filter; the
 * caller's own keys, in any of the headers LLM APIs use, never do.
 */
@RequiresEnvoy
class CredentialsEndToEndTest {

  @RegisterExtension
  static final GatewayExtension GATEWAY = GatewayExtension.withProviders("bearer", "apikey");

  private static final String CLIENT_KEY = "sk-client-own-key-0123456789";

  @BeforeAll
  static void credentials() {
    Gateway gw = GATEWAY.get();
    gw.putProvider(
        "bearer",
        "{\"base_url\":\"" + gw.provider("bearer").baseUrl()
            + "\",\"credential\":{\"header\":\"authorization\",\"value\":\"Bearer sk-configured-openai\"}}");
    gw.putProvider(
        "apikey",
        "{\"base_url\":\"" + gw.provider("apikey").baseUrl()
            + "\",\"credential\":{\"header\":\"x-api-key\",\"value\":\"sk-ant-configured\"}}");
    gw.rest("PUT", "/v1/models/gpt-4o-mini", "{\"route\":\"bearer\",\"model\":\"gpt-4o-mini\"}");
    gw.put(
        "/v1/models/claude-3-5-haiku-latest",
        "{\"route\":\"apikey\",\"model\":\"claude-3-5-haiku-latest\"}");
  }

  private static void assertNoClientKey(MockProvider.Received received) {
    for (Map.Entry<String, List<String>> header : received.headers().entrySet()) {
      assertThat(header.getValue()).as(header.getKey()).noneMatch(v -> v.contains(CLIENT_KEY));
    }
  }

  @Test
  void aProviderWithAnAuthorizationCredentialGetsTheConfiguredKeyAndNeverTheCallers() {
    Gateway gw = GATEWAY.get();
    gw.provider("bearer").clearReceived();

    HttpResponse<String> r = gw.post(
        "/v1/chat/completions",
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "authorization",
        "Bearer " + CLIENT_KEY,
        "x-api-key",
        CLIENT_KEY);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    MockProvider.Received received = gw.provider("bearer").received().get(0);
    assertThat(received.headers().get("authorization"))
        .containsExactly("Bearer sk-configured-openai");
    assertNoClientKey(received);
  }

  @Test
  void aProviderWithAnXApiKeyCredentialGetsTheConfiguredKeyAndNeverTheCallers() {
    Gateway gw = GATEWAY.get();
    gw.provider("apikey").clearReceived();

    HttpResponse<String> r = gw.post(
        "/v1/messages",
        "{\"model\":\"claude-3-5-haiku-latest\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "anthropic-version",
        "2023-06-01",
        "x-api-key",
        CLIENT_KEY,
        "authorization",
        "Bearer " + CLIENT_KEY);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    MockProvider.Received received = gw.provider("apikey").received().get(0);
    assertThat(received.headers().get("x-api-key")).containsExactly("sk-ant-configured");
    assertNoClientKey(received);
  }

  @Test
  void theCredentialIsNeverShownByTheRestApiOrEnvoysConfigDump() {
    Gateway gw = GATEWAY.get();

    String provider = gw.rest("GET", "/v1/providers/bearer", null).toString();
    String dump = gw.envoy.admin("/config_dump").body();

    assertThat(provider).doesNotContain("sk-configured-openai").contains("\"configured\":true");
    assertThat(dump).doesNotContain("sk-configured-openai").doesNotContain("sk-ant-configured");
  }
}
