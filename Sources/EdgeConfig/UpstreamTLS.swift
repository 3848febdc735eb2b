/// Caddyfile: TLS to upstreams, inside `transport http { … }`; `https://` upstreams turn it on too.
/// ```
/// transport http {
///     tls                                   # on, with the defaults below
///     tls_server_name <name>                # SNI and the name the certificate must carry
///     tls_trusted_ca_certs <pem files…>     # trust these CAs instead of the system's roots
///     tls_insecure_skip_verify              # accept any certificate (a warning at load)
///     tls_timeout <duration>                # the handshake, after the TCP connect; default 10s
/// }
/// ```
/// Any `tls_*` line turns TLS on, as in Caddy.
public struct UpstreamTLS: Codable, Sendable, Hashable {
  /// SNI and the name verified in the upstream's certificate. Default nil: the upstream's host (an IP
  /// address is then checked against the certificate's IP entries and no SNI is sent).
  public var serverName: String?
  /// PEM files of the CAs that sign upstream certificates; when given they replace the system's roots,
  /// as Caddy's `tls_trusted_ca_certs` does. Default nil: the system's roots.
  public var trustedCACerts: [String]?
  /// Accept any certificate, whoever signed it and whatever it names. For tests and first looks only.
  public var insecureSkipVerify: Bool
  /// The TLS handshake, once the TCP connection is up (502 after). Default 10 s.
  public var handshakeTimeout: Duration

  public init(
    serverName: String? = nil, trustedCACerts: [String]? = nil, insecureSkipVerify: Bool = false,
    handshakeTimeout: Duration = .seconds(10)
  ) {
    self.serverName = serverName
    self.trustedCACerts = trustedCACerts
    self.insecureSkipVerify = insecureSkipVerify
    self.handshakeTimeout = handshakeTimeout
  }
}

extension UpstreamTLS {
  private enum Keys: String, CodingKey { case serverName, trustedCACerts, insecureSkipVerify, handshakeTimeout }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = UpstreamTLS()
    self.init(
      serverName: try c.decodeIfPresent(String.self, forKey: .serverName),
      trustedCACerts: try c.decodeIfPresent([String].self, forKey: .trustedCACerts),
      insecureSkipVerify: try c.decode(.insecureSkipVerify, default: false),
      handshakeTimeout: try c.decodeDuration(.handshakeTimeout) ?? d.handshakeTimeout)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeIfPresent(serverName, forKey: .serverName)
    try c.encodeIfPresent(trustedCACerts, forKey: .trustedCACerts)
    if insecureSkipVerify { try c.encode(true, forKey: .insecureSkipVerify) }
    try c.encodeDuration(handshakeTimeout, forKey: .handshakeTimeout)
  }
}

/// `transport http { proxy_protocol v1|v2 }`: the PROXY protocol header edge writes first on every new
/// upstream connection (haproxy's proxy-protocol.txt), naming the client's address and port and the
/// address the client reached edge on.
public enum ProxyProtocolVersion: String, Codable, Sendable, Hashable {
  /// The text form: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`.
  case v1
  /// The binary form (16 bytes of header, then the addresses).
  case v2
}
