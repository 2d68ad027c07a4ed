/**
 * Proof, without an Envoy, that configuration satisfies Envoy's contract: parsing Envoy YAML/JSON
 * strictly ({@link dev.llmgw.controlplane.xds.validation.EnvoyConfigLoader}), Envoy's own PGV rules
 * applied to every message including those inside {@code Any} fields ({@link
 * dev.llmgw.controlplane.xds.validation.EnvoyValidator}), and whole snapshots, with every name one
 * resource uses defined by another ({@link
 * dev.llmgw.controlplane.xds.validation.CrossReferenceChecker}). {@link
 * dev.llmgw.controlplane.xds.validation.EnvoyTypes} holds the type registry all of them share.
 */
package dev.llmgw.controlplane.xds.validation;
