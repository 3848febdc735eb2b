internal import CEdgeShims
internal import COpenSSL

/// PEM text in and out of OpenSSL through short-lived memory BIOs (freed before returning).
enum PEMCodec {
  /// Runs `write` against an empty memory BIO and returns the text it wrote.
  /// `write` returns OpenSSL's status (1 on success); `call` names it in errors.
  static func encode(_ call: String, _ write: (OpaquePointer) -> Int32) throws(OpenSSLError) -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError("BIO_new") }
    defer { BIO_free(bio) }
    try check(write(bio), call)
    var data: UnsafeMutablePointer<CChar>? = nil
    let count = edge_ca_bio_mem_data(bio, &data)
    guard let data, count > 0 else { throw OpenSSLError(call) }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
  }

  /// Runs `read` against a read-only memory BIO over `pem`; nil from `read` is an error named `call`.
  /// The BIO borrows the bytes, so it never outlives this call.
  static func decode(_ pem: String, _ call: String, _ read: (OpaquePointer) -> OpaquePointer?)
    throws(OpenSSLError) -> OpaquePointer
  {
    let bytes = Array(pem.utf8)
    let object: OpaquePointer? = bytes.withUnsafeBytes { raw in
      guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
      defer { BIO_free(bio) }
      return read(bio)
    }
    guard let object else { throw OpenSSLError(call) }
    return object
  }
}

/// Passphrase callback that refuses: an encrypted key is an error, never a prompt on the terminal.
let refusePassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
  _, _, _, _ in 0
}
