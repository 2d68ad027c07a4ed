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
 *
 * <h2>Known differences from Envoy 1.40</h2>
 * The gateway runs Envoy 1.40 ({@code envoy/install-envoy.sh}). it-tests' {@code DriverDifferentialTest}
 * plays the same exchanges through that Envoy, on the control plane's own listener, and through this
 * driver with the same filter config, against the production ext-proc, and requires the same messages
 * at ext-proc, the same request at the provider and the same answer at the client, modulo exactly the
 * following. Everything else it covers behaves as the 1.34 sources say: the BUFFERED request body as one
 * message, {@code mode_override} on either headers reply, header mutations ({@code append_action} is
 * still ignored: ADD_IF_ABSENT overwrites, OVERWRITE_IF_EXISTS adds), content-length removal for
 * STREAMED, the BUFFERED content-length check, immediate responses on request headers, request body and
 * response headers.
 * <ul>
 *   <li><b>Chunk boundaries of a streamed body.</b> Envoy sends what it has read: a whole JSON answer
 *       or several SSE events as one message, and it may end a body with an empty message that only
 *       carries {@code end_of_stream}. The driver sends exactly the chunks it is given, with
 *       {@code end_of_stream} on the last one. Compare streamed bodies as concatenated bytes, with
 *       {@code end_of_stream} on the last message only.</li>
 *   <li><b>When the upstream's body arrives.</b> In Envoy it is a race whether the body is complete
 *       before the processor answers the response headers. If it is, Envoy keeps the headers, sends the
 *       body as one message (BUFFERED handling, whatever the body mode) and checks a replaced body
 *       against the {@code content-length} still on the headers: a mismatch is a 500
 *       ({@code mismatch_between_content_length_and_the_length_of_the_mutated_body}). That 500 is what a
 *       real Envoy answered to every PII-restored JSON answer while ext-proc left content-length in
 *       place. The driver delivers each chunk after the previous phase was answered, unless the
 *       response is built with {@link dev.llmgw.extproc.driver.UpstreamResponse.Builder#bodyWithHeaders()};
 *       it does not pick one order at random. A processor that replaces a body must remove
 *       content-length in its headers reply to be right in both orders.</li>
 *   <li><b>Envoy's local reply mappers.</b> The control plane's listener has {@code local_reply_config}
 *       mappers that render Envoy's own replies (ext_proc failures, upstream errors, a rejected body
 *       mutation, an immediate response without {@code x-llmgw-error}) in the caller's API error shape
 *       with {@code x-llmgw-error: gateway_error}. The driver answers those replies as Envoy does before
 *       the mappers run: same status, its own plain body. Compare only status and reset there.</li>
 *   <li><b>Headers Envoy adds.</b> {@code x-request-id} and {@code x-forwarded-proto} on requests,
 *       {@code server} on responses (and {@code date} on local replies), {@code x-envoy-*} from the
 *       router, and {@code transfer-encoding} when Envoy's HTTP/1.1 codec frames a body without
 *       content-length. The driver's header maps have none of them.</li>
 *   <li><b>The router.</b> {@link dev.llmgw.extproc.driver.UpstreamRequest} is the request as it
 *       reached the router; the route's {@code request_headers_to_remove}, host rewrite and retries are
 *       not applied.</li>
 * </ul>
 */
package dev.llmgw.extproc.driver;
