internal import COpenSSL

/// An EC P-256 private key (EVP_PKEY) owned by this object and freed once, in `deinit`. Short-lived:
/// the public key types keep PKCS#8 bytes and make one of these per operation, so they stay plain values.
final class ECKey {
  let pointer: OpaquePointer

  private init(taking pointer: OpaquePointer) { self.pointer = pointer }

  deinit { EVP_PKEY_free(pointer) }

  /// A fresh P-256 key (the `EVP_EC_gen` macro, spelled out).
  static func generateP256() throws(ACMEError) -> ECKey {
    guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
      throw cryptoError("EVP_PKEY_CTX_new_from_name(EC)")
    }
    defer { EVP_PKEY_CTX_free(context) }
    try check(EVP_PKEY_keygen_init(context), "EVP_PKEY_keygen_init")
    try check(EVP_PKEY_CTX_set_group_name(context, "P-256"), "EVP_PKEY_CTX_set_group_name(P-256)")
    var key: OpaquePointer? = nil
    try check(EVP_PKEY_generate(context, &key), "EVP_PKEY_generate")
    guard let key else { throw cryptoError("EVP_PKEY_generate") }
    return ECKey(taking: key)
  }

  /// An unencrypted PEM private key (PKCS#8 or SEC1), which must be P-256.
  convenience init(pem: String) throws(ACMEError) {
    guard let key = PEM.readFirst(pem, { PEM_read_bio_PrivateKey($0, nil, refusePassphrase, nil) }) else {
      throw ACMEError(.invalidInput, "no unencrypted private key in the PEM text")
    }
    self.init(taking: key)
    try requireP256()
  }

  /// PKCS#8 DER (PrivateKeyInfo), as `pkcs8DER()` wrote it.
  convenience init(pkcs8DER der: [UInt8]) throws(ACMEError) {
    let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
      var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
      return d2i_AutoPrivateKey(nil, &cursor, buffer.count)
    }
    guard let key else { throw cryptoError("d2i_AutoPrivateKey") }
    self.init(taking: key)
    try requireP256()
  }

  private func requireP256() throws(ACMEError) {
    var name = [CChar](repeating: 0, count: 64)
    guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC,
      EVP_PKEY_get_group_name(pointer, &name, name.count, nil) == 1
    else {
      _ = drainOpenSSLErrors()
      throw ACMEError(.invalidInput, "the key is not an EC key (only P-256 is supported)")
    }
    let group = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard group == "prime256v1" || group == "P-256" else {
      throw ACMEError(.invalidInput, "the key is on curve \(group); only P-256 is supported")
    }
  }

  /// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
  func pem() throws(ACMEError) -> String {
    try PEM.write("PEM_write_bio_PrivateKey") { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
  }

  func pkcs8DER() throws(ACMEError) -> [UInt8] {
    try PEM.der("i2d_PKCS8PrivateKey") { cursor in
      // i2d_PrivateKey would write SEC1 for an EC key; PrivateKeyInfo is asked for explicitly.
      guard let info = EVP_PKEY2PKCS8(pointer) else { return -1 }
      defer { PKCS8_PRIV_KEY_INFO_free(info) }
      return i2d_PKCS8_PRIV_KEY_INFO(info, cursor)
    }
  }

  /// The public point's affine coordinates, 32 bytes each (JWK `x`, `y`).
  func publicCoordinates() throws(ACMEError) -> (x: [UInt8], y: [UInt8]) {
    var point = [UInt8](repeating: 0, count: 65)
    var length = 0
    try check(
      EVP_PKEY_get_octet_string_param(pointer, "encoded-pub-key", &point, point.count, &length),
      "EVP_PKEY_get_octet_string_param(encoded-pub-key)")
    guard length == 65, point[0] == 0x04 else { throw ACMEError(.crypto, "P-256 public key is not an uncompressed point") }
    return (Array(point[1..<33]), Array(point[33..<65]))
  }

  /// An ES256 signature (RFC 7518 §3.4): r and s as 32-byte big-endian integers, concatenated.
  /// OpenSSL produces DER (ECDSA-Sig-Value); JWS wants the raw form.
  func signES256(_ message: [UInt8]) throws(ACMEError) -> [UInt8] {
    let der = try signatureDER(message)
    let signature: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
      var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
      return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
    }
    guard let signature else { throw cryptoError("d2i_ECDSA_SIG") }
    defer { ECDSA_SIG_free(signature) }
    var raw = [UInt8](repeating: 0, count: 64)
    let written = raw.withUnsafeMutableBufferPointer { buffer in
      (BN_bn2binpad(ECDSA_SIG_get0_r(signature), buffer.baseAddress, 32),
        BN_bn2binpad(ECDSA_SIG_get0_s(signature), buffer.baseAddress! + 32, 32))
    }
    guard written.0 == 32, written.1 == 32 else { throw cryptoError("BN_bn2binpad") }
    return raw
  }

  private func signatureDER(_ message: [UInt8]) throws(ACMEError) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else { throw cryptoError("EVP_MD_CTX_new") }
    defer { EVP_MD_CTX_free(context) }
    try check(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pointer), "EVP_DigestSignInit")
    var length = 0
    try message.withUnsafeBufferPointer { (buffer) throws(ACMEError) in
      try check(EVP_DigestSign(context, nil, &length, buffer.baseAddress, buffer.count), "EVP_DigestSign")
    }
    var signature = [UInt8](repeating: 0, count: length)
    try message.withUnsafeBufferPointer { (buffer) throws(ACMEError) in
      try check(EVP_DigestSign(context, &signature, &length, buffer.baseAddress, buffer.count), "EVP_DigestSign")
    }
    return Array(signature.prefix(length))
  }
}
