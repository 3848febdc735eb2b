internal import COpenSSL

/// The private key of a certificate being ordered (EC P-256), and the CSR that asks for it.
public struct CertificateKey: Sendable, Hashable {
  /// Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): what goes to storage next to the chain.
  public let pem: String

  /// Wraps an existing unencrypted P-256 PEM key (checked).
  public init(pem: String) throws(ACMEError) {
    _ = try ECKey(pem: pem)
    self.pem = pem
  }

  private init(checkedPEM: String) { pem = checkedPEM }

  public static func generateP256() throws(ACMEError) -> CertificateKey {
    CertificateKey(checkedPEM: try ECKey.generateP256().pem())
  }

  /// A PKCS#10 CSR (DER) for `names`: a SAN entry per name (DNS or IP), CN = the first name when it has
  /// at most 64 characters, signed with SHA-256. This is what `ACMEClient.obtain` finalizes with.
  public func csr(names: [String]) throws(ACMEError) -> [UInt8] {
    guard !names.isEmpty else { throw ACMEError(.invalidInput, "a CSR needs at least one name") }
    var identifiers: [ACMEIdentifier] = []
    for name in names { identifiers.append(try ACMEIdentifier(name: name)) }
    let key = try ECKey(pem: pem)
    guard let request = X509_REQ_new() else { throw cryptoError("X509_REQ_new") }
    defer { X509_REQ_free(request) }
    try check(X509_REQ_set_version(request, Int(X509_REQ_VERSION_1)), "X509_REQ_set_version")
    let subject = try X509Extensions.subject(commonName: X509Extensions.commonName(for: identifiers))
    defer { X509_NAME_free(subject) }
    try check(X509_REQ_set_subject_name(request, subject), "X509_REQ_set_subject_name")
    try check(X509_REQ_set_pubkey(request, key.pointer), "X509_REQ_set_pubkey")

    let san = try X509Extensions.subjectAltName(identifiers)
    defer { X509_EXTENSION_free(san) }
    guard let stack = OPENSSL_sk_new_null() else { throw cryptoError("sk_X509_EXTENSION_new_null") }
    defer { OPENSSL_sk_free(stack) }  // borrows `san`; frees only the stack
    guard OPENSSL_sk_push(stack, UnsafeRawPointer(san)) > 0 else { throw cryptoError("sk_X509_EXTENSION_push") }
    try check(X509_REQ_add_extensions(request, stack), "X509_REQ_add_extensions")

    guard X509_REQ_sign(request, key.pointer, EVP_sha256()) > 0 else { throw cryptoError("X509_REQ_sign") }
    return try PEM.der("i2d_X509_REQ") { i2d_X509_REQ(request, $0) }
  }
}
