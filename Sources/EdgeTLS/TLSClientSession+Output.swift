internal import COpenSSL

extension TLSClientSession {
  /// Hands all pending ciphertext to `send` in one piece, straight from the write BIO's memory, valid
  /// only during the call; then empties the BIO. Call after creating the session and after every
  /// `advance`, `write` and `shutdown`.
  public func takeOutput(_ send: (UnsafeRawBufferPointer) -> Void) {
    var data: UnsafeMutablePointer<CChar>?
    let length = BIO_ctrl(writeBIO, BIO_CTRL_INFO, 0, &data)  // BIO_get_mem_data
    guard length > 0, let data else { return }
    send(UnsafeRawBufferPointer(start: data, count: length))
    _ = BIO_ctrl(writeBIO, BIO_CTRL_RESET, 0, nil)
  }

  /// Encrypts `plaintext` for the server (all of it: memory BIOs never push back). Then `takeOutput`.
  public func write(plaintext: UnsafeRawBufferPointer) throws(TLSFailure) {
    guard canWrite else { throw TLSFailure(reason: "write before the handshake completed or after close", alert: nil) }
    var offset = 0
    while offset < plaintext.count {
      ERR_clear_error()
      var written = 0
      guard let base = plaintext.baseAddress,
        SSL_write_ex(ssl, base + offset, plaintext.count - offset, &written) == 1
      else {
        phase = .failed
        throw TLSFailure(reason: OpenSSLError("SSL_write").description, alert: nil)
      }
      offset += written
    }
  }

  /// Queues close_notify (then `takeOutput`). The connection may close without waiting for the server's.
  public func shutdown() {
    guard canWrite else { return }
    ERR_clear_error()
    _ = SSL_shutdown(ssl)
    _ = OpenSSLError.drainQueue()
    phase = .closed
  }
}
