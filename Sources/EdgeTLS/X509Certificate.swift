internal import CEdgeShims
internal import COpenSSL

#if canImport(Glibc)
  import Glibc
#endif

/// An X.509 certificate (X509) owned by this object and freed exactly once, in `deinit`.
/// Built by `X509Certificate.sign(_:…)` or parsed from PEM; read-only after that.
final class X509Certificate {
  /// The X509; borrowed by callers, never freed by them.
  let pointer: OpaquePointer

  init(taking pointer: OpaquePointer) { self.pointer = pointer }

  deinit { X509_free(pointer) }

  /// Parses the first PEM certificate in `pem`.
  convenience init(pem: String) throws(OpenSSLError) {
    let certificate = try PEMCodec.decode(pem, "PEM_read_bio_X509") { bio in
      PEM_read_bio_X509(bio, nil, refusePassphrase, nil)
    }
    self.init(taking: certificate)
  }

  /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`).
  func pem() throws(OpenSSLError) -> String {
    try PEMCodec.encode("PEM_write_bio_X509") { bio in PEM_write_bio_X509(bio, pointer) }
  }

  var subjectCommonName: String? { Self.entry(NID_commonName, of: X509_get_subject_name(pointer)) }
  var subjectOrganization: String? { Self.entry(NID_organizationName, of: X509_get_subject_name(pointer)) }
  var issuerCommonName: String? { Self.entry(NID_commonName, of: X509_get_issuer_name(pointer)) }

  /// Start of validity, Unix seconds.
  var notBefore: Int { Self.unixTime(X509_get0_notBefore(pointer)) }
  /// End of validity, Unix seconds.
  var notAfter: Int { Self.unixTime(X509_get0_notAfter(pointer)) }

  /// Whether basicConstraints says CA:TRUE.
  var isCA: Bool { X509_check_ca(pointer) != 0 }

  /// The subjectAltName entries this type knows (DNS and IP), in certificate order.
  var subjectAlternativeNames: [SubjectAlternativeName] {
    guard let raw = X509_get_ext_d2i(pointer, NID_subject_alt_name, nil, nil) else { return [] }
    let names = OpaquePointer(raw)
    defer { GENERAL_NAMES_free(names) }
    var result: [SubjectAlternativeName] = []
    for index in 0..<edge_ca_general_names_count(names) {
      guard let name = edge_ca_general_names_at(names, index) else { continue }
      var type: Int32 = 0
      guard let value = GENERAL_NAME_get0_value(name, &type) else { continue }
      let string = value.assumingMemoryBound(to: ASN1_STRING.self)  // ASN1_IA5STRING or ASN1_OCTET_STRING
      let bytes = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(string), count: Int(ASN1_STRING_length(string))))
      if type == GEN_DNS {
        result.append(.dns(String(decoding: bytes, as: UTF8.self)))
      } else if type == GEN_IPADD, let address = IPAddressBytes(bytes: bytes) {
        result.append(.ipAddress(address.text))
      }
    }
    return result
  }

  /// SHA-256 over the DER, as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:…`).
  func fingerprintSHA256() throws(OpenSSLError) -> String {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    try check(X509_digest(pointer, EVP_sha256(), &digest, &length), "X509_digest")
    return digest[0..<Int(length)].map { byte in
      let hex = String(byte, radix: 16, uppercase: true)
      return hex.count == 1 ? "0" + hex : hex
    }.joined(separator: ":")
  }

  /// Whether this certificate's signature verifies with `key`'s public half.
  func isSigned(by key: PrivateKey) -> Bool {
    let valid = X509_verify(pointer, key.pointer) == 1
    _ = OpenSSLError.drainQueue()
    return valid
  }

  /// The first `nid` entry of an X509_NAME as UTF-8, or nil.
  private static func entry(_ nid: Int32, of name: OpaquePointer?) -> String? {
    guard let name else { return nil }
    let index = X509_NAME_get_index_by_NID(name, nid, -1)
    guard index >= 0, let entry = X509_NAME_get_entry(name, index),
      let data = X509_NAME_ENTRY_get_data(entry)
    else { return nil }
    var utf8: UnsafeMutablePointer<UInt8>? = nil
    let length = ASN1_STRING_to_UTF8(&utf8, data)
    guard length >= 0, let utf8 else { return nil }
    defer { edge_ca_openssl_free(utf8) }
    return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
  }

  /// An ASN1_TIME as Unix seconds (0 when it cannot be read).
  private static func unixTime(_ time: UnsafePointer<ASN1_TIME>?) -> Int {
    var parts = tm()
    guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
    return Int(timegm(&parts))
  }
}
