internal import COpenSSL

/// OpenSSL's thread-local error queue as text, emptied so it never leaks into the next call.
func drainOpenSSLErrors() -> [String] {
  var lines: [String] = []
  while true {
    let code = ERR_get_error()
    if code == 0 { break }
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &buffer, buffer.count)
    lines.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }
  return lines
}

/// An `ACMEError` (`.crypto` unless told) naming the failed call, with OpenSSL's queued reasons.
func cryptoError(_ call: String, kind: ACMEError.Kind = .crypto) -> ACMEError {
  let reasons = drainOpenSSLErrors()
  return ACMEError(kind, reasons.isEmpty ? "\(call) failed" : "\(call): \(reasons.joined(separator: "; "))")
}

/// Throws `cryptoError(call)` unless `status` is 1 (OpenSSL's usual success).
@inline(__always)
func check(_ status: Int32, _ call: String) throws(ACMEError) {
  if status != 1 { throw cryptoError(call) }
}

/// PEM text in and out of OpenSSL through memory BIOs that never outlive the call.
enum PEM {
  /// Runs `write` against an empty memory BIO and returns what it wrote.
  static func write(_ call: String, _ write: (OpaquePointer) -> Int32) throws(ACMEError) -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw cryptoError("BIO_new") }
    defer { BIO_free(bio) }
    try check(write(bio), call)
    var data: UnsafeMutableRawPointer? = nil
    // BIO_get_mem_data is a macro over BIO_ctrl(BIO_CTRL_INFO).
    let count = withUnsafeMutablePointer(to: &data) { BIO_ctrl(bio, BIO_CTRL_INFO, 0, $0) }
    guard let data, count > 0 else { throw cryptoError(call) }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
  }

  /// The first object `read` finds in `text` (the caller owns it), or nil.
  static func readFirst(_ text: String, _ read: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
    let bytes = Array(text.utf8)
    let object: OpaquePointer? = bytes.withUnsafeBytes { raw in
      guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
      defer { BIO_free(bio) }
      return read(bio)
    }
    _ = drainOpenSSLErrors()
    return object
  }

  /// Runs `read` over a read-only memory BIO on `text` until it returns nil; the objects read, in order
  /// (the caller owns and frees each).
  static func readAll<Object>(_ text: String, _ read: (OpaquePointer) -> Object?) -> [Object] {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes { raw in
      guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return [] }
      defer { BIO_free(bio) }
      var objects: [Object] = []
      while let object = read(bio) { objects.append(object) }
      _ = drainOpenSSLErrors()  // the read that ended the loop queued "no start line"
      return objects
    }
  }

  /// DER from an `i2d_*` function (called twice: once for the length, once to fill).
  static func der(_ call: String, _ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32)
    throws(ACMEError) -> [UInt8]
  {
    let length = encode(nil)
    guard length > 0 else { throw cryptoError(call) }
    var bytes = [UInt8](repeating: 0, count: Int(length))
    let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
      var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
      return encode(&cursor)
    }
    guard written == length else { throw cryptoError(call) }
    return bytes
  }
}

/// Passphrase callback that refuses: an encrypted key is an error, never a prompt.
let refusePassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
  _, _, _, _ in 0
}
