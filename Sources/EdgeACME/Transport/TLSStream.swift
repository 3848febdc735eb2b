internal import COpenSSL

/// TLS over a `TCPSocket` through memory BIOs: OpenSSL never touches the socket, so writes use
/// MSG_NOSIGNAL and every wait honours the caller's deadline.
final class TLSStream: ByteStream {
  private let socket: TCPSocket
  private let ssl: OpaquePointer
  /// Bytes from the network, for OpenSSL to read (owned by `ssl`).
  private let input: OpaquePointer
  /// Bytes OpenSSL wrote, for the network (owned by `ssl`).
  private let output: OpaquePointer

  /// Connects TLS on `socket` and verifies the peer for `host` (a DNS name, or an IP literal matched
  /// against iPAddress SANs; SNI is sent only for names, RFC 6066 §3).
  init(socket: TCPSocket, context: TLSClientContext, host: String, deadline: ContinuousClock.Instant)
    throws
  {
    self.socket = socket
    guard let ssl = SSL_new(context.pointer) else { throw cryptoError("SSL_new") }
    self.ssl = ssl
    guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
      SSL_free(ssl)
      throw cryptoError("BIO_new")
    }
    self.input = input
    self.output = output
    SSL_set_bio(ssl, input, output)

    let parameters = SSL_get0_param(ssl)
    if IPAddressText.bytes(host) != nil {
      try check(X509_VERIFY_PARAM_set1_ip_asc(parameters, host), "X509_VERIFY_PARAM_set1_ip_asc(\(host))")
    } else {
      X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
      try check(X509_VERIFY_PARAM_set1_host(parameters, host, 0), "X509_VERIFY_PARAM_set1_host(\(host))")
      // SSL_set_tlsext_host_name is a macro over SSL_ctrl.
      let named = host.withCString { name in
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: name))
      }
      guard named == 1 else { throw cryptoError("SSL_set_tlsext_host_name(\(host))") }
    }
    SSL_set_connect_state(ssl)
    let finished = try drive("TLS handshake with \(host)", deadline: deadline) { SSL_do_handshake(ssl) }
    guard finished > 0 else { throw ACMEError(.transport, "TLS handshake with \(host): connection closed") }
  }

  deinit { SSL_free(ssl) }

  func close() {
    ERR_clear_error()
    if SSL_shutdown(ssl) >= 0 {  // queue close_notify; best effort
      try? flush(deadline: .now + .milliseconds(100))
    }
    _ = drainOpenSSLErrors()
    socket.close()
  }

  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {
    guard !bytes.isEmpty else { return }
    let written = try bytes.withUnsafeBytes { (raw) throws in
      try drive("TLS write", deadline: deadline) { SSL_write(ssl, raw.baseAddress, Int32(raw.count)) }
    }
    guard written == bytes.count else { throw ACMEError(.transport, "TLS write: connection closed") }
  }

  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 16_384)
    let count = try chunk.withUnsafeMutableBytes { (raw) throws in
      try drive("TLS read", deadline: deadline) { SSL_read(ssl, raw.baseAddress, Int32(raw.count)) }
    }
    guard count > 0 else { return false }
    buffer.append(contentsOf: chunk[0..<Int(count)])
    return true
  }

  /// Idle and still good means: nothing arrived but TLS housekeeping (TLS 1.3 session tickets).
  var isStale: Bool {
    var scratch = [UInt8](repeating: 0, count: 4096)
    while socket.isReadable {
      let received = try? scratch.withUnsafeMutableBytes { (raw) throws in
        try socket.receive(into: raw, deadline: .now + .milliseconds(10))
      }
      guard let received, received > 0 else { return true }
      guard BIO_write(input, scratch, Int32(received)) == Int32(received) else { return true }
      ERR_clear_error()
      let result = SSL_read(ssl, &scratch, Int32(scratch.count))
      if result > 0 || SSL_get_error(ssl, result) != SSL_ERROR_WANT_READ {
        _ = drainOpenSSLErrors()
        return true
      }
    }
    return false
  }

  /// Runs an SSL call until it completes, moving bytes between the BIOs and the socket. Returns the
  /// call's positive result, or 0 when the peer closed the connection.
  private func drive(_ what: String, deadline: ContinuousClock.Instant, _ operation: () -> Int32)
    throws -> Int32
  {
    while true {
      ERR_clear_error()
      let result = operation()
      let reason = SSL_get_error(ssl, result)
      try flush(deadline: deadline)
      if result > 0 { return result }
      switch reason {
      case SSL_ERROR_WANT_READ:
        if try !fill(deadline: deadline) { return 0 }
      case SSL_ERROR_WANT_WRITE:
        continue
      case SSL_ERROR_ZERO_RETURN:
        return 0
      default:
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
          _ = drainOpenSSLErrors()
          let reason = String(cString: X509_verify_cert_error_string(verification))
          throw ACMEError(.transport, "\(what): certificate verification failed: \(reason)")
        }
        throw cryptoError(what, kind: .transport)
      }
    }
  }

  /// Moves what OpenSSL wrote to the socket.
  private func flush(deadline: ContinuousClock.Instant) throws {
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while BIO_ctrl_pending(output) > 0 {
      let count = BIO_read(output, &chunk, Int32(chunk.count))
      guard count > 0 else { break }
      try chunk.withUnsafeBytes { (raw) throws in
        try socket.send(UnsafeRawBufferPointer(rebasing: raw[0..<Int(count)]), deadline: deadline)
      }
    }
  }

  /// Moves what the network sent into OpenSSL; false at end of stream.
  private func fill(deadline: ContinuousClock.Instant) throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 16_384)
    let count = try chunk.withUnsafeMutableBytes { (raw) throws in try socket.receive(into: raw, deadline: deadline) }
    guard count > 0 else { return false }
    guard BIO_write(input, chunk, Int32(count)) == Int32(count) else { throw cryptoError("BIO_write") }
    return true
  }
}
