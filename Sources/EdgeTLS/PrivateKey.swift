internal import COpenSSL

/// A private key (EVP_PKEY) owned by this object and freed exactly once, in `deinit`.
/// New keys are EC P-256: small, fast to sign with, and accepted by every current TLS client.
final class PrivateKey {
  /// The EVP_PKEY; borrowed by callers, never freed by them.
  let pointer: OpaquePointer

  private init(taking pointer: OpaquePointer) { self.pointer = pointer }

  deinit { EVP_PKEY_free(pointer) }

  /// A fresh EC P-256 key (what the `EVP_EC_gen` macro does, spelled out).
  static func generateP256() throws(OpenSSLError) -> PrivateKey {
    guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
      throw OpenSSLError("EVP_PKEY_CTX_new_from_name(EC)")
    }
    defer { EVP_PKEY_CTX_free(context) }
    try check(EVP_PKEY_keygen_init(context), "EVP_PKEY_keygen_init")
    try check(EVP_PKEY_CTX_set_group_name(context, "P-256"), "EVP_PKEY_CTX_set_group_name(P-256)")
    var key: OpaquePointer? = nil
    try check(EVP_PKEY_generate(context, &key), "EVP_PKEY_generate")
    guard let key else { throw OpenSSLError("EVP_PKEY_generate") }
    return PrivateKey(taking: key)
  }

  /// Parses an unencrypted PEM private key (PKCS#8 or traditional).
  convenience init(pem: String) throws(OpenSSLError) {
    let key = try PEMCodec.decode(pem, "PEM_read_bio_PrivateKey") { bio in
      PEM_read_bio_PrivateKey(bio, nil, refusePassphrase, nil)
    }
    self.init(taking: key)
  }

  /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
  func pem() throws(OpenSSLError) -> String {
    try PEMCodec.encode("PEM_write_bio_PrivateKey") { bio in
      PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil)
    }
  }

  /// Whether `certificate` carries this key's public half.
  func matches(_ certificate: X509Certificate) -> Bool {
    guard let publicKey = X509_get0_pubkey(certificate.pointer) else {
      _ = OpenSSLError.drainQueue()
      return false
    }
    let equal = EVP_PKEY_eq(publicKey, pointer) == 1
    _ = OpenSSLError.drainQueue()
    return equal
  }
}
