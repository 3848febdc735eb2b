internal import CEdgeShims
internal import COpenSSL

/// The server side of TLS for one listener configuration: protocol versions, ciphers, ALPN, session
/// tickets and the certificates it serves. Sessions (`TLSSession`) are made from it, one per connection.
///
/// Configured once in init and only read afterwards.
public final class TLSContext: Sendable {
  public let configuration: TLSConfiguration
  /// Certificates served without waiting; a miss makes the session ask its caller (`waitingForCertificate`).
  public let certificates: CertificateCache
  /// The SSL_CTX, freed in deinit.
  nonisolated(unsafe) let raw: OpaquePointer
  // Invariant: `raw` is fully configured in init and never changed after; OpenSSL allows SSL_new on such a
  // context from any thread. Mutable state (ticket keys, certificates) lives in Sendable objects.
  /// `applicationProtocols` in ALPN wire form (length-prefixed names), for SSL_select_next_proto.
  let alpnWire: [UInt8]

  /// Sites whose TLS settings differ from the listener's, by exact name or `*.` wildcard; applied when
  /// the client names one of them.
  public let sitePolicies: [String: TLSSitePolicy]

  /// The name whose certificate clients that send no SNI get (`default_sni`); nil: see `serverName(forNoSNI:)`.
  public let defaultServerName: String?
  /// The host names served on this listener (exact or `*.` wildcard, lower-case).
  public let siteNames: Set<String>

  public init(
    configuration: TLSConfiguration = TLSConfiguration(), certificates: CertificateCache,
    sitePolicies: [String: TLSSitePolicy] = [:], defaultServerName: String? = nil, siteNames: Set<String> = []
  ) throws(OpenSSLError) {
    self.defaultServerName = defaultServerName
    self.siteNames = siteNames
    guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw OpenSSLError("SSL_CTX_new") }
    self.configuration = configuration
    self.certificates = certificates
    self.sitePolicies = sitePolicies
    raw = ctx
    alpnWire = try Self.wireFormat(configuration.applicationProtocols)
    try configure()
  }

  deinit { SSL_CTX_free(raw) }

  private func configure() throws(OpenSSLError) {
    try check(edge_ssl_ctx_set_min_proto(raw, configuration.minVersion.openSSLValue), "SSL_CTX_set_min_proto_version")
    try check(edge_ssl_ctx_set_max_proto(raw, configuration.maxVersion.openSSLValue), "SSL_CTX_set_max_proto_version")
    try check(SSL_CTX_set_cipher_list(raw, configuration.tls12Ciphers), "SSL_CTX_set_cipher_list")
    try check(SSL_CTX_set_ciphersuites(raw, configuration.tls13Ciphers), "SSL_CTX_set_ciphersuites")
    try check(edge_ssl_ctx_set1_groups_list(raw, configuration.groups), "SSL_CTX_set1_groups_list")
    var options = edge_ssl_op_cipher_server_preference() | edge_ssl_op_no_renegotiation()
    options |= edge_ssl_op_no_compression()
    options |= edge_ssl_op_prioritize_chacha()  // clients without AES hardware prefer ChaCha20; others keep AES
    if configuration.ticketKeys == nil { options |= edge_ssl_op_no_ticket() }
    SSL_CTX_set_options(raw, options)
    // Idle connections give their 34 KiB of record buffers back (most keep-alive connections are idle).
    _ = edge_ssl_ctx_set_mode(raw, Int(SSL_MODE_RELEASE_BUFFERS))
    // Resumption is by ticket only: nothing per session is kept on this node, so tickets work cluster-wide.
    _ = edge_ssl_ctx_set_session_cache_mode(raw, Int(SSL_SESS_CACHE_OFF))
    if configuration.ticketKeys != nil {
      try check(SSL_CTX_set_tlsext_ticket_key_evp_cb(raw, TLSSession.ticketKeyCallback), "SSL_CTX_set_tlsext_ticket_key_evp_cb")
      // One TLS 1.3 ticket per handshake (OpenSSL's default is two; Go, and so Caddy, send one): sealing a
      // ticket costs about 4% of a full handshake, and a resumed handshake brings a fresh ticket.
      try check(SSL_CTX_set_num_tickets(raw, 1), "SSL_CTX_set_num_tickets")
    } else {
      try check(SSL_CTX_set_num_tickets(raw, 0), "SSL_CTX_set_num_tickets")
    }
    SSL_CTX_set_client_hello_cb(raw, TLSSession.clientHelloCallback, nil)
    // Accepting the server name makes OpenSSL acknowledge SNI in its hello, as RFC 6066 asks (the
    // certificate was already chosen by the client-hello callback).
    _ = edge_ssl_ctx_accept_server_name(raw)
    SSL_CTX_set_alpn_select_cb(raw, TLSSession.alpnCallback, nil)
    // OCSP stapling: the chosen certificate's response, when it has one (CertifiedKey.setOCSPResponse).
    guard edge_ssl_ctx_set_tlsext_status_cb(raw, TLSSession.statusCallback) == 1 else {
      throw OpenSSLError("SSL_CTX_set_tlsext_status_cb")
    }
    SSL_CTX_set_info_callback(raw, TLSSession.infoCallback)
  }

  /// The name to serve a client that sent no SNI (clients never send one for an IP address) and connected
  /// to `address`: `default_sni`; else the address, when a site is written for it; else the listener's
  /// only site name; else the address (whose lookup then fails with unrecognized_name).
  func serverName(forNoSNIAt address: String?) -> String? {
    if let defaultServerName { return defaultServerName }
    if let address, siteNames.contains(address) { return address }
    if siteNames.count == 1, let only = siteNames.first, !only.hasPrefix("*.") { return only }
    return address
  }

  /// A site's own TLS settings, if it has any: exact name, then wildcard.
  func policy(for serverName: String) -> TLSSitePolicy? {
    if sitePolicies.isEmpty { return nil }
    if let exact = sitePolicies[serverName] { return exact }
    return WildcardName.covering(serverName).flatMap { sitePolicies[$0] }
  }

  /// `["h2", "http/1.1"]` → `\x02h2\x08http/1.1`.
  static func wireFormat(_ protocols: [String]) throws(OpenSSLError) -> [UInt8] {
    var wire: [UInt8] = []
    for name in protocols {
      let bytes = Array(name.utf8)
      guard (1...255).contains(bytes.count) else { throw OpenSSLError("ALPN protocol '\(name)' (length 1-255)") }
      wire.append(UInt8(bytes.count))
      wire += bytes
    }
    return wire
  }
}
