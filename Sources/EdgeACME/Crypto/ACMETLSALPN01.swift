internal import COpenSSL

/// TLS-ALPN-01 (RFC 8737): the validation certificate a server must present when a client offers the
/// ALPN protocol `acme-tls/1` with SNI = the identifier.
public enum ACMETLSALPN01 {
  /// The ALPN protocol name the CA offers, and the only one the server may select for it.
  public static let protocolName = "acme-tls/1"

  /// A fresh self-signed certificate (and its P-256 key) for `identifier`: subjectAltName = the
  /// identifier (dNSName, or iPAddress for an IP identifier, RFC 8738 §6), plus the critical
  /// id-pe-acmeIdentifier extension holding SHA-256(keyAuthorization). Valid from an hour ago for 7 days.
  public static func challengeCertificate(identifier: String, keyAuthorization: String) throws(ACMEError)
    -> (certificatePEM: String, keyPEM: String)
  {
    let name = try ACMEIdentifier(name: identifier)
    let key = try ECKey.generateP256()
    guard let certificate = X509_new() else { throw cryptoError("X509_new") }
    defer { X509_free(certificate) }
    try check(X509_set_version(certificate, Int(X509_VERSION_3)), "X509_set_version")
    try setRandomSerial(certificate)
    let subject = try X509Extensions.subject(commonName: X509Extensions.commonName(for: [name]))
    defer { X509_NAME_free(subject) }
    try check(X509_set_subject_name(certificate, subject), "X509_set_subject_name")
    try check(X509_set_issuer_name(certificate, subject), "X509_set_issuer_name")
    guard X509_time_adj_ex(X509_getm_notBefore(certificate), 0, -3600, nil) != nil,
      X509_time_adj_ex(X509_getm_notAfter(certificate), 7, 0, nil) != nil
    else { throw cryptoError("X509_time_adj_ex") }
    try check(X509_set_pubkey(certificate, key.pointer), "X509_set_pubkey")

    let san = try X509Extensions.subjectAltName([name])
    defer { X509_EXTENSION_free(san) }
    try check(X509_add_ext(certificate, san, -1), "X509_add_ext(subjectAltName)")
    let acme = try X509Extensions.acmeIdentifier(keyAuthorization: keyAuthorization)
    defer { X509_EXTENSION_free(acme) }
    try check(X509_add_ext(certificate, acme, -1), "X509_add_ext(acmeIdentifier)")

    guard X509_sign(certificate, key.pointer, EVP_sha256()) > 0 else { throw cryptoError("X509_sign") }
    let certificatePEM = try PEM.write("PEM_write_bio_X509") { PEM_write_bio_X509($0, certificate) }
    return (certificatePEM, try key.pem())
  }

  private static func setRandomSerial(_ certificate: OpaquePointer) throws(ACMEError) {
    guard let number = BN_new() else { throw cryptoError("BN_new") }
    defer { BN_free(number) }
    try check(BN_rand(number, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand")
    guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
      throw cryptoError("BN_to_ASN1_INTEGER")
    }
  }
}
