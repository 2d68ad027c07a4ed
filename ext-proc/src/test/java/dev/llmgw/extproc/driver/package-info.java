/**
 * An Envoy-faithful ext_proc driver: test code that plays Envoy's side of the
 * {@code envoy.service.ext_proc.v3.ExternalProcessor/Process} stream, so the gateway's processor can
 * be proven against Envoy's contract on every build, without an Envoy binary.
 *
 * <p>Entry point: {@link dev.llmgw.extproc.driver.EnvoyExtProcDriver}. It takes Envoy's own filter
 * config ({@code envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor}) and a gRPC channel,
 * simulates one HTTP exchange per {@code exchange(..)} call and returns an
 * {@link dev.llmgw.extproc.driver.ExchangeResult} recording every message, what reached upstream,
 * what the client saw and when.
 *
 * <p>Rules come from these Envoy sources (API v1.34, the version {@code io.envoyproxy.controlplane:api}
 * 1.0.49 ships), cited by file where a class applies them:
 * <ul>
 *   <li>{@code api/envoy/service/ext_proc/v3/external_processor.proto} — message contract;</li>
 *   <li>{@code api/envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto} and
 *       {@code processing_mode.proto} — filter config, body modes, content-length rules;</li>
 *   <li>{@code api/envoy/config/common/mutation_rules/v3/mutation_rules.proto} — header mutation rules;</li>
 *   <li>{@code source/extensions/filters/http/ext_proc/ext_proc.cc} — when messages are sent,
 *       {@code onReceiveMessage}, failure handling, timeouts, immediate responses, mode override,
 *       dynamic metadata;</li>
 *   <li>{@code source/extensions/filters/http/ext_proc/processor_state.cc} — per-phase reply
 *       handling, spurious-message detection, CONTINUE_AND_REPLACE, route cache;</li>
 *   <li>{@code source/extensions/filters/http/ext_proc/mutation_utils.cc} and
 *       {@code source/extensions/filters/common/mutation_rules/mutation_rules.cc} — how header and
 *       body mutations are applied and checked;</li>
 *   <li>{@code source/extensions/filters/http/ext_proc/config.cc} — config validation;</li>
 *   <li>{@code source/extensions/filters/http/ext_proc/client_impl.cc} — side-stream close.</li>
 * </ul>
 */
package dev.llmgw.extproc.driver;
