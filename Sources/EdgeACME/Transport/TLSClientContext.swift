internal import COpenSSL

/// The client SSL_CTX: TLS 1.2+, peer verification against the system store plus extra roots (Caddy's
/// `acme_ca_root`), ALPN http/1.1.
final class TLSClientContext: @unchecked Sendable {
  // Invariant: the SSL_CTX is configured in init and never changed after; SSL_new (the only later use)
  // may be called on it from any thread.
  let pointer: OpaquePointer

  init(extraRootFiles: [String], extraRootPEMs: [String]) throws(ACMEError) {
    guard let context = SSL_CTX_new(TLS_client_method()) else { throw cryptoError("SSL_CTX_new") }
    pointer = context
    // SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
    guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
      throw cryptoError("SSL_CTX_set_min_proto_version")
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
    try check(SSL_CTX_set_default_verify_paths(context), "SSL_CTX_set_default_verify_paths")
    for file in extraRootFiles {
      guard SSL_CTX_load_verify_locations(context, file, nil) == 1 else {
        throw cryptoError("loading trusted roots from \(file)")
      }
    }
    let store = SSL_CTX_get_cert_store(context)
    for pem in extraRootPEMs {
      let certificates = PEM.readAll(pem) { PEM_read_bio_X509($0, nil, nil, nil) }
      guard !certificates.isEmpty else { throw ACMEError(.invalidInput, "no certificate in an extra root PEM") }
      for certificate in certificates {
        defer { X509_free(certificate) }
        try check(X509_STORE_add_cert(store, certificate), "X509_STORE_add_cert")
      }
    }
    let alpn: [UInt8] = [8] + Array("http/1.1".utf8)
    guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {  // 0 is success here
      throw cryptoError("SSL_CTX_set_alpn_protos")
    }
  }

  deinit { SSL_CTX_free(pointer) }
}
