/// Caddyfile, in the global options:
/// ```
/// servers {
///     listener_wrappers {
///         proxy_protocol {
///             timeout <duration>          # default 5s
///             allow <cidrs…>              # peers whose header gives the client's address
///             deny <cidrs…>               # peers refused when they send a header
///             fallback_policy ignore|use|reject|require|skip   # everyone else; default ignore
///         }
///         tls                              # marks where TLS starts: after proxy_protocol
///     }
/// }
/// ```
/// A load balancer in front of edge (haproxy, AWS NLB, …) writes a PROXY header (v1 or v2) first on each
/// connection; edge reads it before TLS, and the client address it names becomes the connection's remote
/// address everywhere (X-Forwarded-For, the access log, `remote_ip`, `{remote_host}`).
public struct ProxyProtocolListener: Codable, Sendable, Equatable {
  /// What is done with a connection's PROXY header, by where the connection comes from (Caddy's and
  /// go-proxyproto's policies).
  public enum Policy: String, Codable, Sendable, CaseIterable {
    /// A header is read when one is sent and its addresses are used; none is fine too.
    case use
    /// A header is read when one is sent (so it never reaches HTTP) but its addresses are not used: the
    /// peer's own address stays. Caddy's default for peers outside `allow`.
    case ignore
    /// A connection that sends a header is closed; one without is served.
    case reject
    /// A connection must start with a header (closed otherwise); its addresses are used.
    case require
    /// Nothing is read: the connection is served as it comes (a header would be a bad request).
    case skip
  }

  /// How long the header may take to arrive, from the accept (the connection is closed after). Default
  /// 5 s. Caddy's 0 (no limit) is read as the `read_header` timeout: a connection never waits unbounded.
  public var timeout: Duration
  /// Peers whose header is used (`use`). Default none.
  public var allow: [String]
  /// Peers refused when they send a header (`reject`); checked before `allow`. Default none.
  public var deny: [String]
  /// The policy for peers in neither list. Default `ignore`, as in Caddy.
  public var fallbackPolicy: Policy

  public init(timeout: Duration = .seconds(5), allow: [String] = [], deny: [String] = [], fallbackPolicy: Policy = .ignore) {
    self.timeout = timeout
    self.allow = allow
    self.deny = deny
    self.fallbackPolicy = fallbackPolicy
  }
}

extension ProxyProtocolListener {
  private enum Keys: String, CodingKey { case timeout, allow, deny, fallbackPolicy }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = ProxyProtocolListener()
    self.init(
      timeout: try c.decodeDuration(.timeout) ?? d.timeout, allow: try c.decode(.allow, default: []),
      deny: try c.decode(.deny, default: []), fallbackPolicy: try c.decode(.fallbackPolicy, default: d.fallbackPolicy))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeDuration(timeout, forKey: .timeout)
    try c.encode(allow, forKey: .allow)
    try c.encode(deny, forKey: .deny)
    try c.encode(fallbackPolicy, forKey: .fallbackPolicy)
  }
}

/// `trusted_proxies static <ranges…|private_ranges>` in `servers { … }`: peers whose forwarding fields are
/// believed. A request from such a peer has its client address read from `client_ip_headers`, right to
/// left, skipping trusted addresses (Caddy's `trusted_proxies_strict`: the only way edge reads them), and
/// keeps the X-Forwarded-For/-Proto/-Host it came with (edge appends the peer to X-Forwarded-For).
public enum TrustedProxyRanges {
  /// What `private_ranges` stands for (Caddy's list): loopback and the private IPv4 and IPv6 ranges.
  public static let privateRanges = ["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "127.0.0.1/8", "fd00::/8", "::1"]
}
