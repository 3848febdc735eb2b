internal import CEdgeShims
internal import COpenSSL

/// What a new certificate says: who it is for, for how long, and what it may do.
struct CertificateProfile {
  /// What the certificate may do; decides basicConstraints, keyUsage and extendedKeyUsage.
  enum Role {
    /// Signs intermediates below it: CA:TRUE with `pathLength`, keyCertSign + cRLSign.
    case authority(pathLength: Int)
    /// A TLS server: CA:FALSE, digitalSignature, serverAuth.
    case server
  }

  var role: Role
  /// Subject CN; nil leaves the subject empty (then the subjectAltName is marked critical, RFC 5280).
  var commonName: String?
  /// Subject O; nil for none.
  var organization: String?
  /// Unix seconds.
  var notBefore: Int
  /// Unix seconds.
  var notAfter: Int
  /// subjectAltName entries (none: no extension).
  var names: [SubjectAlternativeName] = []
}

extension X509Certificate {
  /// Builds and signs (SHA-256) a v3 certificate for `subjectKey`, with a random 128-bit serial.
  /// `issuer` nil means self-signed: then `issuerKey` must be `subjectKey`.
  static func sign(
    _ profile: CertificateProfile, subjectKey: PrivateKey, issuer: X509Certificate?, issuerKey: PrivateKey
  ) throws(OpenSSLError) -> X509Certificate {
    guard let raw = X509_new() else { throw OpenSSLError("X509_new") }
    let certificate = X509Certificate(taking: raw)  // freed by deinit on every path
    let x509 = certificate.pointer
    try check(X509_set_version(x509, Int(X509_VERSION_3)), "X509_set_version")
    try setRandomSerial(x509)

    guard let subject = X509_NAME_new() else { throw OpenSSLError("X509_NAME_new") }
    defer { X509_NAME_free(subject) }
    if let organization = profile.organization {
      try check(X509_NAME_add_entry_by_NID(subject, NID_organizationName, MBSTRING_UTF8, organization, -1, -1, 0),
        "X509_NAME_add_entry_by_NID(O=\(organization))")
    }
    if let commonName = profile.commonName {
      try check(X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, commonName, -1, -1, 0),
        "X509_NAME_add_entry_by_NID(CN=\(commonName))")
    }
    try check(X509_set_subject_name(x509, subject), "X509_set_subject_name")
    try check(X509_set_issuer_name(x509, X509_get_subject_name(issuer?.pointer ?? x509)), "X509_set_issuer_name")

    guard ASN1_TIME_set(X509_getm_notBefore(x509), time_t(profile.notBefore)) != nil,
      ASN1_TIME_set(X509_getm_notAfter(x509), time_t(profile.notAfter)) != nil
    else { throw OpenSSLError("ASN1_TIME_set") }
    try check(X509_set_pubkey(x509, subjectKey.pointer), "X509_set_pubkey")

    try certificate.addExtensions(for: profile, issuer: issuer)
    guard X509_sign(x509, issuerKey.pointer, EVP_sha256()) > 0 else { throw OpenSSLError("X509_sign") }
    return certificate
  }

  /// A positive 128-bit serial with 127 random bits: the top bit is set so every serial has the same
  /// length (16 bytes; RFC 5280 allows up to 20, CAs must use at least 64 random bits).
  private static func setRandomSerial(_ x509: OpaquePointer) throws(OpenSSLError) {
    guard let number = BN_new() else { throw OpenSSLError("BN_new") }
    defer { BN_free(number) }
    try check(BN_rand(number, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand")
    guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil else {
      throw OpenSSLError("BN_to_ASN1_INTEGER")
    }
  }
}
