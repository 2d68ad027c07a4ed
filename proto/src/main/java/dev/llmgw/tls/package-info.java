/**
 * Mutual TLS for the gateway's own gRPC links (Envoy to ext-proc, Envoy and ext-proc to the control
 * plane's xDS port): certificates, keys and CA bundles from PEM files, checked at start and re-read
 * when they change on disk.
 */
@NullMarked
package dev.llmgw.tls;

import org.jspecify.annotations.NullMarked;
