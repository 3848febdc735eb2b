internal import COpenSSL

extension TLSClientSession {
  /// Hands all pending ciphertext to `send` in one piece, straight from the write BIO's memory, valid
  /// only during the call; then empties the BIO. Call after creating the session and after every
  /// `advance`, `write` and `shutdown`.
  public func takeOutput(_ send: (UnsafeRawBufferPointer) -> Void) {
    MemoryBIOIO.takeOutput(writeBIO, send)
  }

  /// Encrypts `plaintext` for the server (all of it: memory BIOs never push back). Then `takeOutput`.
  public func write(plaintext: UnsafeRawBufferPointer) throws(TLSFailure) {
    guard canWrite else { throw TLSFailure(reason: "write before the handshake completed or after close", alert: nil) }
    guard MemoryBIOIO.writeAll(ssl, plaintext) else {
      phase = .failed
      throw TLSFailure(reason: OpenSSLError("SSL_write").description, alert: nil)
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
