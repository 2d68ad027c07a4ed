package dev.llmgw.extproc.server;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import org.jspecify.annotations.Nullable;

/**
 * Which provider served an exchange, as Envoy says with the response headers. The route ext-proc
 * chose does not tell: a weighted route splits traffic between providers and a failover route moves
 * on to the next one, per attempt, inside Envoy. So the control plane tags each provider's host with
 * the provider's name (endpoint metadata {@code llmgw.provider}) and has Envoy's ext_proc filter
 * evaluate {@value #ATTRIBUTE} for every response ({@code response_attributes}): the provider of the
 * host whose answer this is, after retries and failover. Neither the cluster name (a failover
 * route's is its aggregate cluster) nor the route name would say that.
 */
public final class ServedBy {

  /** The CEL expression Envoy evaluates; its value arrives under this very key. */
  public static final String ATTRIBUTE =
      "xds.upstream_host_metadata.filter_metadata.llmgw.provider";

  /** Envoy's key for the attributes of its ext_proc filter. */
  static final String FILTER = "envoy.filters.http.ext_proc";

  private ServedBy() {}

  /**
   * The provider named in {@code request}'s attributes, or null: Envoy sends them with the first
   * message of the response, and leaves the value out when no provider host answered (a local reply,
   * a cluster without the tag).
   */
  static @Nullable String provider(ProcessingRequest request) {
    Struct attributes = request.getAttributesMap().get(FILTER);
    if (attributes == null) {
      return null;
    }
    Value value = attributes.getFieldsMap().get(ATTRIBUTE);
    if (value == null
        || value.getKindCase() != Value.KindCase.STRING_VALUE
        || value.getStringValue().isEmpty()) {
      return null;
    }
    return value.getStringValue();
  }
}
