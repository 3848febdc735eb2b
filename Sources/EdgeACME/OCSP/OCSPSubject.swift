internal import COpenSSL

/// The certificate an OCSP response is about: a chain's leaf and its issuer (the chain's second
/// certificate), with the responder URL from the leaf's authorityInfoAccess (RFC 5280 §4.2.2.1).
///
/// Owns one reference to each certificate, freed in deinit. Used by one task at a time.
final class OCSPSubject {
  let leaf: OpaquePointer
  let issuer: OpaquePointer
  /// The leaf's first http(s) id-ad-ocsp accessLocation.
  let responderURL: String

  /// Nil when there is nothing to staple: the leaf names no OCSP responder, or the chain holds no
  /// issuer to build the certificate ID with. Throws when the PEM holds no certificate or the second
  /// certificate did not issue the first.
  init?(chainPEM: String) throws(ACMEError) {
    let certificates = PEM.readAll(chainPEM) { PEM_read_bio_X509($0, nil, nil, nil) }
    defer { for extra in certificates.dropFirst(2) { X509_free(extra) } }
    guard let leaf = certificates.first else { throw ACMEError(.invalidInput, "no certificate in the chain PEM") }
    guard let url = Self.responderURL(leaf), certificates.count >= 2 else {
      X509_free(leaf)
      return nil
    }
    let issuer = certificates[1]
    guard X509_check_issued(issuer, leaf) == X509_V_OK else {
      X509_free(leaf)
      X509_free(issuer)
      _ = drainOpenSSLErrors()
      throw ACMEError(.invalidInput, "the chain's second certificate did not issue its leaf")
    }
    self.leaf = leaf
    self.issuer = issuer
    responderURL = url
  }

  deinit {
    X509_free(leaf)
    X509_free(issuer)
  }

  private static func responderURL(_ leaf: OpaquePointer) -> String? {
    guard let urls = X509_get1_ocsp(leaf) else {
      _ = drainOpenSSLErrors()
      return nil
    }
    defer { X509_email_free(urls) }
    for index in 0..<OPENSSL_sk_num(urls) {
      guard let raw = OPENSSL_sk_value(urls, index) else { continue }
      let url = String(cString: raw.assumingMemoryBound(to: CChar.self))
      let lowered = url.lowercased()
      if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") { return url }
    }
    return nil
  }

  /// The CertID for the leaf (SHA-1 hashes of the issuer's name and key, as RFC 5019 §2.1.1 profiles
  /// it and every public responder accepts). Owned by the caller: OCSP_CERTID_free.
  func certificateID() throws(ACMEError) -> OpaquePointer {
    guard let id = OCSP_cert_to_id(nil, leaf, issuer) else { throw cryptoError("OCSP_cert_to_id") }
    return id
  }

  /// A DER OCSPRequest for the leaf alone, unsigned and without a nonce (RFC 5019 §2.1: responders
  /// that pre-sign answers ignore nonces; freshness comes from the response's own times).
  func requestDER() throws(ACMEError) -> [UInt8] {
    guard let request = OCSP_REQUEST_new() else { throw cryptoError("OCSP_REQUEST_new") }
    defer { OCSP_REQUEST_free(request) }
    let id = try certificateID()
    guard OCSP_request_add0_id(request, id) != nil else {  // on success the request owns `id`
      OCSP_CERTID_free(id)
      throw cryptoError("OCSP_request_add0_id")
    }
    return try PEM.der("i2d_OCSP_REQUEST") { i2d_OCSP_REQUEST(request, $0) }
  }
}
