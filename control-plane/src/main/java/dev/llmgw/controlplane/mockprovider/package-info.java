/**
 * A stand-in LLM provider that speaks the OpenAI Chat Completions, Embeddings and Models APIs and the
 * Anthropic Messages API well enough for the official SDKs. {@code deploy/run-local.sh} runs it as
 * the upstream when no provider key is set ({@code mock-provider} subcommand of the control-plane
 * jar), and the end-to-end tests start {@link dev.llmgw.controlplane.mockprovider.MockProvider}
 * in-process to inject faults and latency and to read what reached the provider.
 */
package dev.llmgw.controlplane.mockprovider;
