internal import COpenSSL
import EdgeCore

/// The record I/O a session does over its memory BIOs, the same for the server side (`TLSSession`) and the
/// client side (`TLSClientSession`): what differs between them is the handshake, not how bytes move.
/// Inlined into both; the server's read path is the hot one.
enum MemoryBIOIO {
  /// What one `readDecrypted` found.
  enum ReadOutcome {
    /// This many plaintext bytes were appended.
    case plaintext(Int)
    /// The input ran out before a whole record.
    case needMoreInput
    /// The peer's close_notify.
    case peerClosed
    /// A bad record or another error (OpenSSL's queue holds why).
    case failed
  }

  /// Decrypts until the input runs out or `limit` bytes were read (a connection cannot starve its loop
  /// neighbours), through a stack buffer of `chunk` bytes: no allocation per read. Bytes read before an
  /// end or error are reported first; the end or error comes at the next call.
  @inline(__always)
  static func readDecrypted(_ ssl: OpaquePointer, into plaintext: ByteBuffer, chunk: Int, limit: Int) -> ReadOutcome {
    var total = 0
    var ending: ReadOutcome?
    withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buffer in
      while total < limit {
        ERR_clear_error()
        var count = 0
        let status = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        if status == 1 {
          plaintext.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
          total += count
          continue
        }
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ: break
        case SSL_ERROR_ZERO_RETURN: if total == 0 { ending = .peerClosed }
        default: if total == 0 { ending = .failed }
        }
        return
      }
    }
    if let ending { return ending }
    return total > 0 ? .plaintext(total) : .needMoreInput
  }

  /// Hands all pending ciphertext in `writeBIO` to `send` in one piece, straight from the BIO's memory
  /// (no copy), valid only during the call; then empties the BIO (a read-write memory BIO forgets its
  /// contents on reset and keeps its buffer for the next records).
  @inline(__always)
  static func takeOutput(_ writeBIO: OpaquePointer, _ send: (UnsafeRawBufferPointer) -> Void) {
    var data: UnsafeMutablePointer<CChar>?
    let length = BIO_ctrl(writeBIO, BIO_CTRL_INFO, 0, &data)  // BIO_get_mem_data
    guard length > 0, let data else { return }
    send(UnsafeRawBufferPointer(start: data, count: length))
    _ = BIO_ctrl(writeBIO, BIO_CTRL_RESET, 0, nil)
  }

  /// Encrypts all of `plaintext` (memory BIOs never push back); false when OpenSSL refused.
  @inline(__always)
  static func writeAll(_ ssl: OpaquePointer, _ plaintext: UnsafeRawBufferPointer) -> Bool {
    guard let base = plaintext.baseAddress else { return true }
    var offset = 0
    while offset < plaintext.count {
      ERR_clear_error()
      var written = 0
      guard SSL_write_ex(ssl, base + offset, plaintext.count - offset, &written) == 1 else { return false }
      offset += written
    }
    return true
  }
}
