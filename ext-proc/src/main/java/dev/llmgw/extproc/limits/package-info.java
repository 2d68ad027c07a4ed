/**
 * Spend budgets (USD per API key or tenant per calendar day or month) and token rate limits (tokens
 * and requests per minute), checked and reserved atomically before a request is forwarded and
 * settled with the actual usage after the response. State lives in a {@link
 * dev.llmgw.extproc.limits.LimitStore}: in-process for a single ext-proc, or Redis shared by
 * replicas. See docs/limits.md.
 *
 * <p>Entry point: {@link dev.llmgw.extproc.limits.Limits}.
 */
package dev.llmgw.extproc.limits;
