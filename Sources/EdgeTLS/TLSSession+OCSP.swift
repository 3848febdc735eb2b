internal import COpenSSL

extension TLSSession {
  /// Staples the chosen certificate's OCSP response (RFC 6066 §8: CertificateStatus in TLS 1.2, the
  /// leaf's status_request extension in TLS 1.3), or declines when it has none. OpenSSL takes a
  /// malloc'ed copy, which it frees with the connection.
  func stapleOCSPResponse() -> Int32 {
    guard let response = certificate?.ocspResponse else { return SSL_TLSEXT_ERR_NOACK }
    guard let copy = CRYPTO_malloc(response.count, #fileID, #line) else { return SSL_TLSEXT_ERR_NOACK }
    response.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    // SSL_set_tlsext_status_ocsp_resp is a macro over SSL_ctrl, which takes `copy` (freeing any earlier
    // one) and always returns 1.
    _ = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, response.count, copy)
    return SSL_TLSEXT_ERR_OK
  }
}
