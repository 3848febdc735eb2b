internal import CEdgeShims
internal import COpenSSL

/// The client side of TLS for one configuration: versions, trusted roots, the client certificate.
/// Sessions (`TLSClientSession`) are made from it, one per connection.
///
/// The files are read once, in init: to pick up a rotated certificate or CA, make a new context (edge's
/// Redis client does so for every connection attempt).
public final class TLSClientContext: Sendable {
  public let configuration: TLSClientConfiguration
  /// The SSL_CTX, freed in deinit.
  nonisolated(unsafe) let raw: OpaquePointer
  // Invariant: `raw` is fully configured in init and never changed after; OpenSSL allows SSL_new on such a
  // context from any thread.
  /// Sessions to resume, by resumption key (see `TLSClientSession.init`).
  let sessions = ClientSessionCache()

  public init(configuration: TLSClientConfiguration = TLSClientConfiguration()) throws(OpenSSLError) {
    guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw OpenSSLError("SSL_CTX_new") }
    raw = ctx
    self.configuration = configuration
    try configure()
  }

  deinit { SSL_CTX_free(raw) }

  private func configure() throws(OpenSSLError) {
    try check(edge_ssl_ctx_set_min_proto(raw, configuration.minVersion.openSSLValue), "SSL_CTX_set_min_proto_version")
    try check(edge_ssl_ctx_set_max_proto(raw, TLSVersion.tls13.openSSLValue), "SSL_CTX_set_max_proto_version")
    SSL_CTX_set_options(raw, edge_ssl_op_no_renegotiation() | edge_ssl_op_no_compression())
    // Idle connections (a pool of upstream connections, a quiet Redis link) give their record buffers back.
    _ = edge_ssl_ctx_set_mode(raw, Int(SSL_MODE_RELEASE_BUFFERS))
    if configuration.insecureSkipVerify {
      SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nil)
    } else {
      // The handshake fails on a bad chain; the session sets the name to check on each connection.
      SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nil)
      let files = (configuration.trustedCAFile.map { [$0] } ?? []) + configuration.moreTrustedCAFiles
      if !files.isEmpty {
        for file in files {
          try check(SSL_CTX_load_verify_locations(raw, file, nil), "loading trusted CA certificates from \(file)")
        }
      } else {
        try check(SSL_CTX_set_default_verify_paths(raw), "loading the system's trusted roots")
      }
    }
    try loadClientCertificate()
    enableResumption()
    if !configuration.applicationProtocols.isEmpty {
      let wire = try TLSContext.wireFormat(configuration.applicationProtocols)
      // 0 is success here, unlike nearly everywhere else in OpenSSL.
      guard SSL_CTX_set_alpn_protos(raw, wire, UInt32(wire.count)) == 0 else { throw OpenSSLError("SSL_CTX_set_alpn_protos") }
    }
  }

  private func loadClientCertificate() throws(OpenSSLError) {
    guard let certificate = configuration.certificateFile else {
      if let key = configuration.privateKeyFile {
        throw OpenSSLError("loading the client key from \(key)", details: ["no client certificate was given for it"])
      }
      return
    }
    let key = configuration.privateKeyFile ?? certificate
    // An encrypted key is an error, never a prompt on the terminal.
    SSL_CTX_set_default_passwd_cb(raw, refusePassphrase)
    try check(
      SSL_CTX_use_certificate_chain_file(raw, certificate), "loading the client certificate from \(certificate)")
    try check(SSL_CTX_use_PrivateKey_file(raw, key, SSL_FILETYPE_PEM), "loading the client key from \(key)")
    try check(SSL_CTX_check_private_key(raw), "the client key \(key) does not match the certificate \(certificate)")
  }
}
