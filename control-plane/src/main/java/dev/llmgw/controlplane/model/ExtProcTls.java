package dev.llmgw.controlplane.model;

import static java.util.Objects.requireNonNull;

/**
 * How Envoy reaches ext-proc over mutual TLS: files on the Envoy host, which Envoy reads itself and
 * re-reads when they are replaced. The control plane never opens them.
 *
 * @param certificateFile the client certificate chain Envoy presents to ext-proc (PEM)
 * @param privateKeyFile its private key (PEM)
 * @param trustedCaFile the CA certificates ext-proc's certificate must lead to (PEM)
 */
public record ExtProcTls(String certificateFile, String privateKeyFile, String trustedCaFile) {

  public ExtProcTls {
    requireNonNull(certificateFile, "certificateFile");
    requireNonNull(privateKeyFile, "privateKeyFile");
    requireNonNull(trustedCaFile, "trustedCaFile");
  }
}
