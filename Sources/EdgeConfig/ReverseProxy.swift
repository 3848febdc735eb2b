/// Caddyfile:
/// ```
/// reverse_proxy [<matcher>] [<upstreams…>] {
///     to <upstreams…>
///     lb_policy <policy> [<args…>]     # default round_robin; see LoadBalancing
///     lb_retries | lb_try_duration | lb_try_interval …
///     health_uri | health_port | health_interval … # active checks; see ActiveHealthCheck
///     fail_duration | max_fails | unhealthy_status … # passive checks; see PassiveHealthCheck
///     header_up   [+|-]<field> [<value>]
///     header_down [+|-]<field> [<value>]
///     flush_interval <duration>|-1     # accepted; edge always streams
///     stream_idle_timeout <duration>   # edge: close a tunnel idle this long (default 1h)
///     stream_timeout <duration>        # close tunnels after this long (default none)
///     transport http {
///         dial_timeout <duration>              # default 3s
///         response_header_timeout <duration>   # default 60s (→ 504)
///         keepalive <duration>|off             # idle pooled connection lifetime, default 90s
///         keepalive_idle_conns <n>             # per upstream per worker, default 64
///         max_conns_per_host <n>               # per upstream per worker, default no limit
///         proxy_protocol v1|v2                 # a PROXY header first on each connection
///         tls …                                # see UpstreamTLS
///     }
/// }
/// ```
public struct ReverseProxy: Codable, Sendable, Equatable {
  public var upstreams: [Upstream]
  /// Which upstream each request goes to, and the retries when it cannot be reached.
  public var loadBalancing: LoadBalancing
  /// When an upstream is skipped for being unhealthy.
  public var healthChecks: HealthChecks
  public var headerUp: [HeaderOperation]
  public var headerDown: [HeaderOperation]
  public var streamIdleTimeout: Duration?
  public var streamTimeout: Duration?
  public var transport: HTTPTransport

  public init(
    upstreams: [Upstream], loadBalancing: LoadBalancing = LoadBalancing(), healthChecks: HealthChecks = HealthChecks(),
    headerUp: [HeaderOperation] = [], headerDown: [HeaderOperation] = [], streamIdleTimeout: Duration? = .seconds(3600),
    streamTimeout: Duration? = nil, transport: HTTPTransport = .init()
  ) {
    self.upstreams = upstreams
    self.loadBalancing = loadBalancing
    self.healthChecks = healthChecks
    self.headerUp = headerUp
    self.headerDown = headerDown
    self.streamIdleTimeout = streamIdleTimeout
    self.streamTimeout = streamTimeout
    self.transport = transport
  }
}

/// An upstream address: `host:port`, `http://host:port`, `https://host[:port]`, `localhost:9000`,
/// `[::1]:8080`, `:9000` (meaning localhost).
public struct Upstream: Codable, Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int
  /// The scheme as written: "http", "https", or nil for none. `https` needs the transport's `tls` (the
  /// Caddyfile adapter turns it on); all upstreams of one `reverse_proxy` use the same scheme.
  public var scheme: String?
  public init(host: String, port: Int, scheme: String? = nil) {
    self.host = host
    self.port = port
    self.scheme = scheme
  }
  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `Name value` (set), `+Name value` (add), `-Name` (delete), `?Name value` (set when absent), as in
/// `header`, `header_up` and `header_down`.
public struct HeaderOperation: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    case set, add, delete
    /// `?Name value`: set only when the field is absent.
    case setDefault = "default"
  }
  public var kind: Kind
  public var name: String
  public var value: String
  public init(kind: Kind, name: String, value: String = "") {
    self.kind = kind
    self.name = name
    self.value = value
  }
}

public struct HTTPTransport: Codable, Sendable, Equatable {
  public var dialTimeout: Duration
  public var responseHeaderTimeout: Duration
  /// nil: keep-alive to upstreams off.
  public var keepAlive: Duration?
  public var keepAliveIdleConns: Int
  /// `tls`, `tls_*`, or `https://` upstreams: TLS to the upstreams. Default nil: plain TCP.
  public var tls: UpstreamTLS?
  /// `max_conns_per_host <n>`: connections (busy and idle) each worker holds to one upstream; requests
  /// beyond wait, first come first served, for one to come free — up to `dialTimeout` (502 after).
  /// Default nil: no limit.
  public var maxConnsPerHost: Int?
  /// `proxy_protocol v1|v2`: a PROXY header first on each new connection. Such a connection describes one
  /// client connection, so it is reused only for requests of that same client connection. Default nil.
  public var proxyProtocol: ProxyProtocolVersion?
  public init(
    dialTimeout: Duration = .seconds(3), responseHeaderTimeout: Duration = .seconds(60),
    keepAlive: Duration? = .seconds(90), keepAliveIdleConns: Int = 64
  ) {
    self.dialTimeout = dialTimeout
    self.responseHeaderTimeout = responseHeaderTimeout
    self.keepAlive = keepAlive
    self.keepAliveIdleConns = keepAliveIdleConns
  }
}
