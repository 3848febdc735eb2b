import EdgeLoop
internal import EdgeTLS

/// The socket's events. Each checks that it comes from the current stream: a socket closed by a timeout
/// or `close()` says nothing more, but the check keeps a late event from ending the next attempt.
extension RedisConnection: TCPStreamDelegate {
  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    guard stream === self.stream else { return }
    let reader = self.reader
    do {
      try reader.feed(bytes)
      // A completion may end the connection (a refused AUTH, `close()`): then the rest is not read.
      while stream === self.stream, let reply = try reader.next() { received(reply) }
    } catch {
      fail("\(error)")
    }
  }

  func streamDidReachEOF(_ stream: TCPStream) {
    guard stream === self.stream else { return }
    fail(tlsFailure.map(\.description) ?? "the server closed the connection" + hint(stream))
  }

  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    guard stream === self.stream else { return }
    if tlsFailure == nil && error.call == "write" && stream.isReading {
      return failAfterPendingReads(stream, error)
    }
    fail(tlsFailure.map(\.description) ?? "\(error)" + hint(stream))
  }

  /// What an operator should check when the server hung up between the TLS handshake and its first
  /// answer without saying why: that is where a server wanting a client certificate hangs up, and its
  /// alert can be lost with the reset (redis-server closes with our first command unread).
  private func hint(_ stream: TCPStream) -> String {
    guard phase == .connecting, url.tlsOptions.certificateFile == nil, stream.security?.isEstablished == true else {
      return ""
    }
    return " right after the TLS handshake (does the server require a client certificate? see cert= and key=)"
  }

  /// A server that refuses the connection may say why and close at once: a TLS 1.3 server that wanted a
  /// client certificate sends its alert only after our handshake (and first command) went out. Our next
  /// write then meets its reset before the loop has read the alert, which is still queued in the kernel.
  /// So a write failure waits one loop iteration (its poll phase reads what is queued), and the reason
  /// reported is the alert when there was one.
  private func failAfterPendingReads(_ stream: TCPStream, _ error: UVError) {
    let timer = LoopTimer(loop: loop)
    timer.start(after: 0) {
      timer.close()
      guard stream === self.stream else { return }
      self.fail(self.tlsFailure.map(\.description) ?? "\(error)" + self.hint(stream))
    }
  }

  func streamDidDrain(_ stream: TCPStream) {}
}
