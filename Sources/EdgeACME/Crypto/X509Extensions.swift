internal import COpenSSL

/// Builders for the two extensions edge's ACME certificates carry.
enum X509Extensions {
  /// subjectAltName with a dNSName or iPAddress entry per identifier. Names were validated by
  /// `ACMEIdentifier(name:)`, so none holds the `,` or `:` that would change the config string's meaning.
  static func subjectAltName(_ identifiers: [ACMEIdentifier]) throws(ACMEError) -> OpaquePointer {
    let value = identifiers.map { ($0.type == "ip" ? "IP:" : "DNS:") + $0.value }.joined(separator: ",")
    guard let ext = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, value) else {
      throw cryptoError("X509V3_EXT_conf_nid(subjectAltName=\(value))")
    }
    return ext
  }

  /// id-pe-acmeIdentifier (RFC 8737 §3), critical: extnValue holds the DER of
  /// `Authorization ::= OCTET STRING (SIZE (32))`, the SHA-256 of the key authorization.
  static let acmeIdentifierOID = "1.3.6.1.5.5.7.1.31"

  static func acmeIdentifier(keyAuthorization: String) throws(ACMEError) -> OpaquePointer {
    let digest = Digest.sha256(Array(keyAuthorization.utf8))
    let inner: [UInt8] = [0x04, UInt8(digest.count)] + digest
    guard let object = OBJ_txt2obj(acmeIdentifierOID, 1) else { throw cryptoError("OBJ_txt2obj") }
    defer { ASN1_OBJECT_free(object) }
    guard let octets = ASN1_OCTET_STRING_new() else { throw cryptoError("ASN1_OCTET_STRING_new") }
    defer { ASN1_OCTET_STRING_free(octets) }
    try check(ASN1_OCTET_STRING_set(octets, inner, Int32(inner.count)), "ASN1_OCTET_STRING_set")
    guard let ext = X509_EXTENSION_create_by_OBJ(nil, object, 1, octets) else {
      throw cryptoError("X509_EXTENSION_create_by_OBJ(acmeIdentifier)")
    }
    return ext
  }

  /// A subject name with just CN = `commonName`.
  static func subject(commonName: String?) throws(ACMEError) -> OpaquePointer {
    guard let name = X509_NAME_new() else { throw cryptoError("X509_NAME_new") }
    if let commonName {
      let status = X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, commonName, -1, -1, 0)
      guard status == 1 else {
        X509_NAME_free(name)
        throw cryptoError("X509_NAME_add_entry_by_NID(CN=\(commonName))")
      }
    }
    return name
  }

  /// The CN RFC 8555 clients conventionally set: the first name, when it fits the 64-character
  /// ub-common-name limit (RFC 5280); longer names live only in the SAN.
  static func commonName(for identifiers: [ACMEIdentifier]) -> String? {
    guard let first = identifiers.first, first.value.utf8.count <= 64 else { return nil }
    return first.value
  }
}
