internal import COpenSSL

extension TLSSession {
  /// Whether ciphertext is waiting to be sent.
  public var hasOutput: Bool { BIO_ctrl_pending(writeBIO) > 0 }

  /// Hands all pending ciphertext to `send` in one piece, straight from the write BIO's memory (no copy),
  /// valid only during the call (write it or copy it at once), then empties the BIO. Call after every
  /// `advance`, `write` and `shutdown`.
  public func takeOutput(_ send: (UnsafeRawBufferPointer) -> Void) {
    MemoryBIOIO.takeOutput(writeBIO, send)
  }

  /// Encrypts `plaintext` for the client (all of it: memory BIOs never push back). Then `takeOutput`.
  public func write(plaintext: UnsafeRawBufferPointer) throws(TLSFailure) {
    guard phase == .established || phase == .peerClosed else {
      throw TLSFailure(reason: "write before the handshake completed or after close", alert: nil)
    }
    if !withExtendedLifetime(self, { MemoryBIOIO.writeAll(ssl, plaintext) }) {
      phase = .failed
      throw TLSFailure(reason: OpenSSLError("SSL_write").description, alert: sentAlert)
    }
  }

  public func write(plaintext: [UInt8]) throws(TLSFailure) {
    let failure: TLSFailure? = plaintext.withUnsafeBytes { bytes in
      do throws(TLSFailure) {
        try write(plaintext: bytes)
        return nil
      } catch {
        return error
      }
    }
    if let failure { throw failure }
  }

  /// Queues close_notify (then `takeOutput`). The connection may close without waiting for the client's.
  public func shutdown() {
    guard phase == .established || phase == .peerClosed else { return }
    ERR_clear_error()
    _ = withExtendedLifetime(self) { SSL_shutdown(ssl) }
    _ = OpenSSLError.drainQueue()
    phase = .closed
  }
}
