package dev.llmgw.controlplane.xds;

/** Names shared by the resources of one snapshot, and by ext-proc and the Envoy bootstrap. */
public final class XdsNames {

  /** The one listener clients call. */
  public static final String LISTENER = "llmgw_ingress";
  /** The route configuration the listener fetches over RDS. */
  public static final String ROUTE_CONFIG = "llmgw_routes";
  /** Cluster of ext-proc replicas; its endpoints are served over EDS. */
  public static final String EXT_PROC_CLUSTER = "llmgw_ext_proc";
  /** SDS secret: the client certificate and key Envoy presents to ext-proc (files on the Envoy host). */
  public static final String EXT_PROC_CLIENT_CERTIFICATE_SECRET =
      "llmgw_ext_proc_client_certificate";
  /** SDS secret: the CA certificates ext-proc's certificate must lead to (a file on the Envoy host). */
  public static final String EXT_PROC_TRUSTED_CA_SECRET = "llmgw_ext_proc_trusted_ca";
  /** Prefix of provider clusters: {@code llmgw_provider_openai}. */
  public static final String PROVIDER_CLUSTER_PREFIX = "llmgw_provider_";
  /** Header ext-proc sets to pick the route; routes match on its value, a route or provider name. */
  public static final String ROUTE_HEADER = "x-llmgw-route";
  /** Header ext-proc sets to the tenant it resolved for an LLM call; routes may match on it. */
  public static final String TENANT_HEADER = "x-llmgw-tenant";
  /** Stat prefix of the HTTP connection manager, so Envoy stats read {@code http.llmgw.*}. */
  public static final String HCM_STAT_PREFIX = "llmgw";
  /**
   * Dynamic-metadata namespace ext-proc writes cost tags under; the access log reads it. Provider
   * hosts carry their own (endpoint) metadata under the same name: {@link #PROVIDER_METADATA_KEY}.
   */
  public static final String METADATA_NAMESPACE = "llmgw";
  /**
   * Key of a provider host's endpoint metadata (in {@link #METADATA_NAMESPACE}) holding the name of
   * the provider it belongs to, so Envoy can say which provider served a request, also behind a
   * weighted split or a failover cluster.
   */
  public static final String PROVIDER_METADATA_KEY = "provider";
  /**
   * The CEL attribute the ext_proc filter evaluates with each response's headers and sends to
   * ext-proc ({@code response_attributes}): the provider name of the host that served the response
   * (the last attempt's, after retries and failover). Absent when no provider host answered (a local
   * reply). ext-proc reads it under this very string.
   */
  public static final String SERVED_BY_ATTRIBUTE = "xds.upstream_host_metadata.filter_metadata."
      + METADATA_NAMESPACE + "." + PROVIDER_METADATA_KEY;

  private XdsNames() {}

  /** Aggregate cluster of a failover route: {@code llmgw_failover_chat}. */
  public static String failoverCluster(String routeName) {
    return "llmgw_failover_" + routeName;
  }

  /** SDS secret holding a provider's credential. */
  public static String credentialSecret(String providerName) {
    return "llmgw_credential_" + providerName;
  }

  public static String providerCluster(String providerName) {
    return PROVIDER_CLUSTER_PREFIX + providerName;
  }
}
