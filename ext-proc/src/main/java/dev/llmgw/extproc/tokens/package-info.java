/**
 * Token counting: exact prompt counts for models with public tokenizers (OpenAI's o200k_base and
 * cl100k_base, through jtokkit, plus the chat format's published overhead rules), labelled
 * estimates elsewhere (Anthropic Claude), context-window enforcement from a model catalog, provider
 * usage read from JSON and SSE responses, and reconciliation metrics. See docs/tokens.md.
 *
 * <p>Entry point: {@link dev.llmgw.extproc.tokens.TokenCounting}.
 */
package dev.llmgw.extproc.tokens;
