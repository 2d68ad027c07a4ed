package dev.llmgw.controlplane.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import dev.llmgw.controlplane.model.Credential;
import dev.llmgw.controlplane.model.ExtProcTls;
import dev.llmgw.controlplane.model.Provider;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.filters.http.credential_injector.v3.CredentialInjector;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.HeaderMutation;
import io.envoyproxy.envoy.extensions.filters.http.header_mutation.v3.Mutations;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.http.injected_credentials.generic.v3.Generic;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.GenericSecret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.util.List;

/**
 * Provider credentials: an SDS generic secret per provider, and the upstream credential_injector
 * filter that adds it as a request header. Keeping the value in a secret (not in route headers)
 * keeps it out of route dumps and lets it rotate without touching routes.
 */
public final class SecretFactory {

  static final String CREDENTIAL_INJECTOR_FILTER = "envoy.filters.http.credential_injector";
  static final String GENERIC_CREDENTIAL = "envoy.http.injected_credentials.generic";

  private SecretFactory() {}

  /** The secret for {@code provider}'s credential; the provider must have one. */
  public static Secret credential(Provider provider) {
    Credential credential = requireNonNull(provider.credential(), "provider without a credential");
    return Secret.newBuilder()
        .setName(XdsNames.credentialSecret(provider.name()))
        .setGenericSecret(GenericSecret.newBuilder()
            .setSecret(DataSource.newBuilder().setInlineString(credential.value())))
        .build();
  }

  /**
   * The secrets the ext-proc cluster's TLS context names: Envoy's client certificate and key, and
   * the CA ext-proc's certificate must lead to. They name files on the Envoy host, so they carry no
   * key material; Envoy watches the files' directories and re-reads them when a file is moved into
   * place (how Kubernetes and cert-manager rotate them).
   */
  public static List<Secret> extProcTls(ExtProcTls tls) {
    return List.of(
        Secret.newBuilder()
            .setName(XdsNames.EXT_PROC_CLIENT_CERTIFICATE_SECRET)
            .setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setFilename(tls.certificateFile()))
                .setPrivateKey(DataSource.newBuilder().setFilename(tls.privateKeyFile())))
            .build(),
        Secret.newBuilder()
            .setName(XdsNames.EXT_PROC_TRUSTED_CA_SECRET)
            .setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setFilename(tls.trustedCaFile())))
            .build());
  }

  /**
   * Headers in which LLM APIs carry a caller's key. When the gateway holds the provider's
   * credential, none of them may reach the provider: the injector overwrites only its own header,
   * so a caller's {@code authorization} would otherwise still reach a provider keyed by
   * {@code x-api-key}, and the other way round.
   */
  static final List<String> CALLER_CREDENTIAL_HEADERS =
      List.of("authorization", "x-api-key", "api-key", "x-goog-api-key");

  static final String HEADER_MUTATION_FILTER = "envoy.filters.http.header_mutation";

  /** Upstream filter that removes every {@link #CALLER_CREDENTIAL_HEADERS caller credential} before the injector runs. */
  static HttpFilter callerCredentialRemover() {
    Mutations.Builder mutations = Mutations.newBuilder();
    for (String header : CALLER_CREDENTIAL_HEADERS) {
      mutations.addRequestMutations(
          io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutation.newBuilder()
              .setRemove(header));
    }
    HeaderMutation remover = HeaderMutation.newBuilder().setMutations(mutations).build();
    return HttpFilter.newBuilder()
        .setName(HEADER_MUTATION_FILTER)
        .setTypedConfig(Any.pack(remover))
        .build();
  }

  /** The injector of {@code provider}'s credential; the provider must have one. */
  static HttpFilter credentialInjector(Provider provider) {
    Credential credential = requireNonNull(provider.credential(), "provider without a credential");
    Generic generic = Generic.newBuilder()
        .setCredential(SdsSecretConfig.newBuilder()
            .setName(XdsNames.credentialSecret(provider.name()))
            .setSdsConfig(ClusterFactory.adsConfigSource()))
        .setHeader(credential.header())
        .build();
    CredentialInjector injector = CredentialInjector.newBuilder()
        // The client's own Authorization (a gateway key) must never reach the provider.
        .setOverwrite(true)
        .setCredential(TypedExtensionConfig.newBuilder()
            .setName(GENERIC_CREDENTIAL)
            .setTypedConfig(Any.pack(generic)))
        .build();
    return HttpFilter.newBuilder()
        .setName(CREDENTIAL_INJECTOR_FILTER)
        .setTypedConfig(Any.pack(injector))
        .build();
  }
}
