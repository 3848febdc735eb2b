/// How a listener speaks TLS. Each field's comment gives its meaning and default.
public struct TLSConfiguration: Sendable {
  /// The oldest protocol version accepted. Default TLS 1.2.
  public var minVersion: TLSVersion = .tls12
  /// The newest protocol version accepted. Default TLS 1.3.
  public var maxVersion: TLSVersion = .tls13
  /// ALPN protocols in server preference order, e.g. `["h2", "http/1.1"]`; the first one the client also
  /// offers is chosen. A client offering none of them gets no ALPN answer (it may still speak HTTP/1.1).
  /// Add `"acme-tls/1"` on listeners that answer TLS-ALPN-01 challenges. Default `["http/1.1"]`.
  public var applicationProtocols: [String] = ["http/1.1"]
  /// Key-exchange groups in preference order (OpenSSL names). Default `X25519:P-256:P-384` (Go's order;
  /// P-384 for the rare client that offers nothing else).
  public var groups: String = "X25519:P-256:P-384"
  /// TLS 1.2 cipher suites (OpenSSL names): ECDHE key exchange with AEAD ciphers only, no RSA key
  /// exchange, no CBC. TLS 1.3 suites are OpenSSL's defaults (all AEAD).
  public var tls12Ciphers: String =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
  /// TLS 1.3 cipher suites in preference order: AES-128-GCM first (as fast as any with AES hardware,
  /// and what Go and Caddy prefer), ChaCha20 for clients without AES hardware (see `prioritize_chacha`).
  public var tls13Ciphers: String = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
  /// Keys sealing session tickets (stateless resumption); nil turns tickets off. Default: a ring of its
  /// own with one random key. Share one ring between listeners (or, via storage, nodes) to resume across them.
  public var ticketKeys: TicketKeyRing? = TicketKeyRing()
  /// TLS-ALPN-01 answers the ACME agent has put up; nil: this listener answers none.
  public var challenges: ChallengeCertificates?
  /// Where handshakes are reported (the `telemetry` option); nil, the default: nothing is captured.
  public var telemetry: (any TLSTelemetrySink)?

  public init() {}
}
