package dev.llmgw.extproc.driver;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.grpc.Channel;
import io.grpc.Metadata;
import java.time.Duration;

/**
 * Plays Envoy's side of {@code envoy.service.ext_proc.v3.ExternalProcessor/Process} for one simulated
 * HTTP exchange at a time, configured with Envoy's own filter config proto, so a processor can be
 * tested against Envoy's behaviour without an Envoy binary.
 *
 * <pre>{@code
 * EnvoyExtProcDriver driver = EnvoyExtProcDriver.builder(channel)
 *     .filterConfig(ExternalProcessor.newBuilder()
 *         .setProcessingMode(ProcessingMode.newBuilder()
 *             .setRequestBodyMode(BodySendMode.BUFFERED)
 *             .setResponseBodyMode(BodySendMode.STREAMED))
 *         .build())
 *     .build();
 * ExchangeResult result = driver.exchange(
 *     DownstreamRequest.post("/v1/chat/completions", json).header("content-type", "application/json").build(),
 *     Upstream.returning(UpstreamResponse.ok("text/event-stream", "data: a\n\n", "data: [DONE]\n\n")));
 * assertThat(result.upstream().headers().get("x-llmgw-route")).contains("openai");
 * }</pre>
 *
 * <h2>How an exchange unfolds</h2>
 * The request direction runs first: headers, then each body chunk, then trailers, each delivered to
 * Envoy only after the previous one is fully processed (a client slower than the processor). Then
 * the {@link Upstream} gets the request as it reached the router, and the response direction runs the
 * same way. In FULL_DUPLEX_STREAMED Envoy does not wait for replies before sending the next chunk;
 * there the driver sends a chunk, then waits until the processor answers something or
 * {@link Builder#duplexSettle(Duration) duplexSettle} passes, then sends the next — so a reply is
 * attributed to the chunk it answers, and a processor that holds chunks back shows it.
 *
 * <h2>Modelled</h2>
 * Message order and {@code end_of_stream} per body mode (NONE, BUFFERED, STREAMED, BUFFERED_PARTIAL,
 * FULL_DUPLEX_STREAMED), trailers, skipped phases, {@code protocol_config} on the first message,
 * {@code observability_mode}; reply validation (spurious messages), header and body mutations with the
 * mutation rules, CONTINUE_AND_REPLACE, content-length removal and the BUFFERED content-length check,
 * {@code clear_route_cache} with {@code route_cache_action}, dynamic metadata through
 * {@code metadata_options}, {@code mode_override} with {@code allow_mode_override} and
 * {@code allowed_override_modes}, immediate responses (also {@code disable_immediate_response}),
 * {@code message_timeout} and {@code override_message_timeout}/{@code max_message_timeout}, processor
 * close and error with {@code failure_mode_allow}, the buffer limit (413 request / 500 response),
 * {@code forward_rules}, {@code grpc_service.initial_metadata}, a response whose whole body arrives
 * before the processor answered its headers ({@link UpstreamResponse.Builder#bodyWithHeaders()}),
 * {@code response_attributes} sent once with the first response message (their values, which depend
 * on the upstream that answered, come from {@link UpstreamResponse.Builder#attribute}). See the
 * package Javadoc for sources and for the known differences from Envoy 1.40.
 *
 * <h2>Not modelled</h2>
 * Chunks arriving while an earlier reply is outstanding (a fast client; Envoy then coalesces them),
 * the upstream answering before the request finished, {@code send_body_without_waiting_for_header_response}
 * sending early (its only other effect, ignoring {@code mode_override}, is modelled),
 * evaluating CEL ({@code request_attributes} are not sent at all), typed metadata, per-route
 * {@code ExtProcPerRoute}, {@code http_service}, flow control and watermarks, gRPC local replies, and
 * headers Envoy itself adds ({@code x-request-id}, {@code x-envoy-upstream-service-time}, ...).
 */
public final class EnvoyExtProcDriver {

  /** The filter's name and its dynamic metadata / attribute namespace in Envoy. */
  public static final String FILTER_NAME = "envoy.filters.http.ext_proc";

  private final Channel channel;
  private final ExternalProcessor config;
  private final Settings settings;
  private final Metadata initialMetadata;

  /** Driver knobs that are not part of Envoy's filter config. */
  record Settings(
      long bufferLimitBytes,
      SpuriousMessageHandling spuriousMessages,
      Duration duplexSettle,
      Duration stallTimeout,
      int maxHeadersCount,
      int maxHeadersKb) {}

  private EnvoyExtProcDriver(Channel channel, ExternalProcessor config, Settings settings) {
    this.channel = channel;
    this.config = config;
    this.settings = settings;
    this.initialMetadata = new Metadata();
    for (HeaderValue h : config.getGrpcService().getInitialMetadataList()) {
      initialMetadata.put(
          Metadata.Key.of(h.getKey(), Metadata.ASCII_STRING_MARSHALLER), h.getValue());
    }
  }

  public static Builder builder(Channel channel) {
    return new Builder(channel);
  }

  /**
   * Runs one HTTP exchange through Envoy's ext_proc filter: opens a {@code Process} stream (only if
   * some phase is sent), drives both directions, closes the stream, and returns what happened.
   *
   * @throws IllegalStateException if the processor stays silent for the stall timeout while Envoy has
   *     no timer running (FULL_DUPLEX_STREAMED, or STREAMED with several chunks outstanding) — a real
   *     Envoy would wait for the route timeout
   */
  public ExchangeResult exchange(DownstreamRequest request, Upstream upstream) {
    requireNonNull(request, "request");
    requireNonNull(upstream, "upstream");
    return new ExchangeRun(channel, initialMetadata, config, settings).run(request, upstream);
  }

  public ExternalProcessor filterConfig() {
    return config;
  }

  /** Configures the driver; only the channel is required. */
  public static final class Builder {
    private final Channel channel;
    private ExternalProcessor config = ExternalProcessor.getDefaultInstance();
    private long bufferLimitBytes = 1024 * 1024;
    private SpuriousMessageHandling spuriousMessages = SpuriousMessageHandling.FOLLOW_FAILURE_MODE;
    private Duration duplexSettle = Duration.ofMillis(25);
    private Duration stallTimeout = Duration.ofSeconds(5);
    private int maxHeadersCount = 100;
    private int maxHeadersKb = 60;

    private Builder(Channel channel) {
      this.channel = requireNonNull(channel, "channel");
    }

    /**
     * Envoy's filter config. Rejected the way Envoy's {@code config.cc} rejects it (FULL_DUPLEX_STREAMED
     * needs trailer mode SEND and {@code failure_mode_allow: false} in 1.34) or when it asks for
     * something the driver cannot do ({@code http_service}).
     */
    public Builder filterConfig(ExternalProcessor config) {
      this.config = requireNonNull(config, "config");
      return this;
    }

    /**
     * The buffer limit of Envoy's filter manager for BUFFERED bodies — the listener's
     * {@code per_connection_buffer_limit_bytes}, 1 MiB by default. A BUFFERED request body over it gets
     * a 413, a response body a 500.
     */
    public Builder bufferLimitBytes(long bufferLimitBytes) {
      if (bufferLimitBytes <= 0) {
        throw new IllegalArgumentException(
            "bufferLimitBytes: " + bufferLimitBytes + " (expected: > 0)");
      }
      this.bufferLimitBytes = bufferLimitBytes;
      return this;
    }

    /** How spurious replies are handled; defaults to Envoy 1.35+ behaviour. */
    public Builder spuriousMessages(SpuriousMessageHandling spuriousMessages) {
      this.spuriousMessages = requireNonNull(spuriousMessages, "spuriousMessages");
      return this;
    }

    /** How long to wait for the processor after each FULL_DUPLEX_STREAMED message before sending the next. */
    public Builder duplexSettle(Duration duplexSettle) {
      requireNonNull(duplexSettle, "duplexSettle");
      if (duplexSettle.isNegative()) {
        throw new IllegalArgumentException("duplexSettle: " + duplexSettle + " (expected: >= 0)");
      }
      this.duplexSettle = duplexSettle;
      return this;
    }

    /**
     * How long the driver waits for a silent processor when Envoy itself would have no timer running,
     * before failing the exchange with an {@link IllegalStateException}.
     */
    public Builder stallTimeout(Duration stallTimeout) {
      requireNonNull(stallTimeout, "stallTimeout");
      if (stallTimeout.isNegative() || stallTimeout.isZero()) {
        throw new IllegalArgumentException("stallTimeout: " + stallTimeout + " (expected: > 0)");
      }
      this.stallTimeout = stallTimeout;
      return this;
    }

    /** The connection manager's {@code max_request_headers_count} (default 100), which mutations must respect. */
    public Builder maxHeadersCount(int maxHeadersCount) {
      if (maxHeadersCount <= 0) {
        throw new IllegalArgumentException(
            "maxHeadersCount: " + maxHeadersCount + " (expected: > 0)");
      }
      this.maxHeadersCount = maxHeadersCount;
      return this;
    }

    /** The connection manager's {@code max_request_headers_kb} (default 60), which mutations must respect. */
    public Builder maxHeadersKb(int maxHeadersKb) {
      if (maxHeadersKb <= 0) {
        throw new IllegalArgumentException("maxHeadersKb: " + maxHeadersKb + " (expected: > 0)");
      }
      this.maxHeadersKb = maxHeadersKb;
      return this;
    }

    public EnvoyExtProcDriver build() {
      validate(config);
      return new EnvoyExtProcDriver(
          channel,
          config,
          new Settings(
              bufferLimitBytes,
              spuriousMessages,
              duplexSettle,
              stallTimeout,
              maxHeadersCount,
              maxHeadersKb));
    }
  }

  /** {@code verifyFilterConfig} / {@code verifyProcessingModeConfig} in ext_proc/config.cc (1.34). */
  static void validate(ExternalProcessor config) {
    if (config.hasHttpService()) {
      throw new IllegalArgumentException(
          "http_service is set (expected: grpc_service or neither; the driver speaks the gRPC Process stream)");
    }
    ProcessingMode mode = config.getProcessingMode();
    if (mode.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
        && mode.getRequestTrailerMode() != HeaderSendMode.SEND) {
      throw new IllegalArgumentException("If the ext_proc filter has the request_body_mode set to "
          + "FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND");
    }
    if (mode.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
        && mode.getResponseTrailerMode() != HeaderSendMode.SEND) {
      throw new IllegalArgumentException("If the ext_proc filter has the response_body_mode set to "
          + "FULL_DUPLEX_STREAMED, then the response_trailer_mode has to be set to SEND");
    }
    if ((mode.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
            || mode.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED)
        && config.getFailureModeAllow()) {
      throw new IllegalArgumentException(
          "If the ext_proc filter has either the request_body_mode or the "
              + "response_body_mode set to FULL_DUPLEX_STREAMED, then the failure_mode_allow has to be left as false");
    }
    if (config.getDisableClearRouteCache()
        && config.getRouteCacheAction() != ExternalProcessor.RouteCacheAction.DEFAULT) {
      throw new IllegalArgumentException(
          "disable_clear_route_cache and route_cache_action can not be set to none-default at the same time.");
    }
    if (config.hasMessageTimeout()
        && (config.getMessageTimeout().getSeconds() < 0
            || config.getMessageTimeout().getSeconds() > 3600)) {
      throw new IllegalArgumentException(
          "message_timeout: " + config.getMessageTimeout() + " (expected: between 0s and 3600s)");
    }
    for (StringMatcher m : config.getForwardRules().getAllowedHeaders().getPatternsList()) {
      StringMatchers.validate(m);
    }
    for (StringMatcher m : config.getForwardRules().getDisallowedHeaders().getPatternsList()) {
      StringMatchers.validate(m);
    }
  }
}
