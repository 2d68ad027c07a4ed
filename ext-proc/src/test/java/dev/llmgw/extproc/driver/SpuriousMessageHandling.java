package dev.llmgw.extproc.driver;

/**
 * What Envoy does with a spurious message — a reply that does not match the phase it is waiting for
 * (for example a {@code request_body} reply while it waits for {@code request_headers}), or a reply
 * of the wrong body kind. Envoy changed this between releases, so the driver lets a test pick.
 */
public enum SpuriousMessageHandling {

  /**
   * Envoy 1.35 and later (runtime guard {@code envoy.reloadable_features.ext_proc_fail_close_spurious_resp},
   * default on): with {@code failure_mode_allow: false} the client gets a 500 local reply whose
   * details are the error ({@code spurious_message}); with {@code failure_mode_allow: true} Envoy
   * stops talking to the processor and the exchange continues unmodified. The driver's default,
   * because it is the stricter of the two.
   */
  FOLLOW_FAILURE_MODE,

  /**
   * Envoy 1.34 and earlier (and 1.35+ with the runtime guard off): whatever {@code failure_mode_allow}
   * says, Envoy closes the side stream, counts {@code spurious_msgs_received} and the exchange
   * continues unmodified.
   */
  IGNORE_AND_CONTINUE
}
