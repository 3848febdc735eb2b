import Prometheus

/// A metric's name and help text, written once: the registry refuses one name with two help texts.
public struct Family: Sendable {
  public let name: String
  public let help: String
  public init(_ name: String, _ help: String) {
    self.name = name
    self.help = help
  }

  var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }

  /// The series for `labels` (found or made; the same labels give the same handle).
  public func counter(_ labels: [(String, String)] = []) -> Counter {
    EdgeMetrics.registry.makeCounter(descriptor: descriptor, labels: labels)
  }
  public func gauge(_ labels: [(String, String)] = []) -> Gauge {
    EdgeMetrics.registry.makeGauge(descriptor: descriptor, labels: labels)
  }
  public func histogram(_ labels: [(String, String)] = [], buckets: [Double] = Buckets.seconds) -> ValueHistogram {
    EdgeMetrics.registry.makeValueHistogram(descriptor: descriptor, labels: labels, buckets: buckets)
  }
}

/// Every metric family edge exposes (docs/observability.md describes them).
public enum Families {
  // HTTP
  public static let requests = Family(
    "edge_http_requests_total", "Requests answered, by site, handler, method and status code.")
  public static let requestDuration = Family(
    "edge_http_request_duration_seconds", "Time from a request's head to the end of its response, by site, handler, method and status code.")
  public static let requestBytes = Family("edge_http_request_body_bytes_total", "Request body bytes read, by site.")
  public static let responseBytes = Family("edge_http_response_body_bytes_total", "Response body bytes sent, by site.")
  public static let connectionsAccepted = Family("edge_connections_accepted_total", "Client connections accepted.")
  public static let connectionsActive = Family("edge_connections_active", "Client connections open now (tunnels not included).")
  public static let connectionsEvicted = Family(
    "edge_connections_evicted_total",
    "Client connections without a request under way closed to make room for a new one at max_connections.")
  public static let connectionsRefused = Family(
    "edge_connections_refused_total",
    "Client connections closed as soon as accepted: the node was at max_connections and none was waiting.")
  public static let tunnelsActive = Family(
    "edge_tunnels_active", "Upgraded connections (WebSocket and other protocol switches) relayed now.")
  public static let tunnelsOpened = Family("edge_tunnels_opened_total", "Upgraded connections relayed since start.")
  public static let http2Sessions = Family("edge_http2_connections_active", "HTTP/2 client connections open now.")
  public static let http2Streams = Family("edge_http2_streams_total", "HTTP/2 request streams opened by clients.")
  public static let http2Abuse = Family(
    "edge_http2_connections_refused_total",
    "HTTP/2 connections ended for abuse: rapid reset, CONTINUATION or control-frame floods.")

  // Upstreams
  public static let upstreamDuration = Family(
    "edge_upstream_response_header_seconds", "Time from sending a request upstream to its response head, by upstream.")
  public static let upstreamActive = Family("edge_upstream_requests_active", "Requests in flight to an upstream.")
  public static let upstreamRequests = Family("edge_upstream_requests_total", "Requests sent to an upstream.")
  public static let upstreamHealthy = Family(
    "edge_upstream_healthy",
    "1 while load balancing may pick an upstream (no active health check says unhealthy and passive checks count fewer than max_fails recent failures), else 0, by upstream.")
  public static let upstreamFailures = Family(
    "edge_upstream_failures_total", "Requests to an upstream that failed (connection refused or lost, timeout), by upstream.")

  // TLS
  public static let handshakes = Family(
    "edge_tls_handshakes_total", "Completed TLS handshakes, by version, cipher, ALPN protocol and resumption.")
  public static let handshakeFailures = Family(
    "edge_tls_handshake_failures_total", "TLS handshakes that failed, by the alert edge sent (none: the client left or sent garbage).")
  public static let certificateExpiry = Family(
    "edge_tls_certificate_expiry_timestamp_seconds", "When a certificate in service expires (Unix time), by name.")
  public static let certificates = Family("edge_tls_certificates", "Certificates in the node's cache.")

  // ACME
  public static let acmeOrders = Family("edge_acme_orders_total", "ACME orders finished, by result (issued, failed).")
  public static let acmeOrderDuration = Family(
    "edge_acme_order_duration_seconds", "Time to obtain a certificate from the CA, from the order to the downloaded chain.")
  public static let acmeRenewals = Family("edge_acme_renewals_total", "Certificates renewed (a subset of issued orders).")

  // Configuration
  public static let reloads = Family("edge_config_reloads_total", "Configuration loads, by result (applied, refused).")
  public static let lastReload = Family(
    "edge_config_last_reload_success_timestamp_seconds", "When the running configuration was applied (Unix time).")

  // Cluster
  public static let redisConnected = Family("edge_cluster_redis_connected", "1 while the node's Redis connections are up.")
  public static let eventsSent = Family("edge_cluster_events_sent_total", "Cluster events this node published, by type.")
  public static let eventsReceived = Family("edge_cluster_events_received_total", "Cluster events received from other nodes, by type.")
  public static let eventsRefused = Family(
    "edge_cluster_events_refused_total", "Cluster events refused (bad signature, too old, unreadable).")
  public static let propagationLag = Family(
    "edge_cluster_propagation_lag_seconds", "From an event's publication on another node to its arrival here.")
  public static let configVersion = Family("edge_cluster_config_version", "The cluster configuration version this node runs.")
  public static let nodes = Family("edge_cluster_nodes", "Nodes with a live heartbeat in Redis.")

  // Process
  public static let buildInfo = Family("edge_build_info", "Always 1; the labels say which edge runs.")
}
