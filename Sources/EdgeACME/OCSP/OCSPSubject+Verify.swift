internal import COpenSSL
import Foundation

extension OCSPSubject {
  /// Checks a responder's answer and returns it as a staple, or throws: the response must parse with
  /// nothing after it, say `successful`, carry a basic response signed by the issuer or by a responder
  /// the issuer delegated to (RFC 6960 §4.2.2.2), hold a single response for this leaf's CertID, and be
  /// current at `now`.
  func staple(fromResponse der: [UInt8], now: Date) throws(ACMEError) -> OCSPStaple {
    let response = try Self.parse(der)
    defer { OCSP_RESPONSE_free(response) }
    let responseStatus = OCSP_response_status(response)
    guard responseStatus == OCSP_RESPONSE_STATUS_SUCCESSFUL else {
      let name = String(cString: OCSP_response_status_str(Int(responseStatus)))
      throw ACMEError(.server, "responder answered '\(name)' (\(responseStatus))")
    }
    guard let basic = OCSP_response_get1_basic(response) else { throw cryptoError("OCSP_response_get1_basic") }
    defer { OCSP_BASICRESP_free(basic) }
    try verifySignature(basic)

    let id = try certificateID()
    defer { OCSP_CERTID_free(id) }
    var status: Int32 = -1
    var reason: Int32 = -1
    var revokedAt: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
    var thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
    var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
    guard OCSP_resp_find_status(basic, id, &status, &reason, &revokedAt, &thisUpdate, &nextUpdate) == 1 else {
      _ = drainOpenSSLErrors()
      throw ACMEError(.protocolViolation, "the response holds no answer for this certificate")
    }
    guard let thisUpdate else { throw ACMEError(.protocolViolation, "the answer has no thisUpdate") }
    let staple = OCSPStaple(
      der: der, status: try Self.status(status), thisUpdate: try ACMELeafCertificate.date(thisUpdate),
      nextUpdate: try nextUpdate.map { (time) throws(ACMEError) in try ACMELeafCertificate.date(time) },
      revokedAt: try revokedAt.map { (time) throws(ACMEError) in try ACMELeafCertificate.date(time) })
    try staple.checkTimes(now: now)
    return staple
  }

  /// An OCSPResponse that is exactly `der` (trailing bytes would be stapled too). Owned by the caller.
  private static func parse(_ der: [UInt8]) throws(ACMEError) -> OpaquePointer {
    guard !der.isEmpty else { throw ACMEError(.protocolViolation, "empty response body") }
    let parsed = der.withUnsafeBufferPointer { buffer -> (OpaquePointer?, Int) in
      var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
      let response = d2i_OCSP_RESPONSE(nil, &cursor, buffer.count)
      return (response, cursor.map { $0 - buffer.baseAddress! } ?? 0)
    }
    guard let response = parsed.0 else {
      _ = drainOpenSSLErrors()
      throw ACMEError(.protocolViolation, "the body is not a DER OCSPResponse")
    }
    guard parsed.1 == der.count else {
      OCSP_RESPONSE_free(response)
      throw ACMEError(.protocolViolation, "\(der.count - parsed.1) bytes after the OCSPResponse")
    }
    return response
  }

  /// OCSP_basic_verify with the issuer as the only trust anchor (a partial chain: the issuer is
  /// usually an intermediate). OCSP_NOEXPLICIT: the signer must be the issuer itself or a certificate
  /// the issuer issued with id-kp-OCSPSigning, never merely something that chains to a trusted root.
  private func verifySignature(_ basic: OpaquePointer) throws(ACMEError) {
    guard let store = X509_STORE_new() else { throw cryptoError("X509_STORE_new") }
    defer { X509_STORE_free(store) }
    try check(X509_STORE_add_cert(store, issuer), "X509_STORE_add_cert")
    try check(X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN)), "X509_STORE_set_flags")
    // The issuer also goes in as a candidate signer: responders that sign with the issuer's own key
    // often leave their certificate out of the response (Let's Encrypt does).
    guard let candidates = OPENSSL_sk_new_null() else { throw cryptoError("OPENSSL_sk_new_null") }
    defer { OPENSSL_sk_free(candidates) }  // borrows `issuer`: no reference taken, none dropped
    guard OPENSSL_sk_push(candidates, UnsafeRawPointer(issuer)) > 0 else { throw cryptoError("OPENSSL_sk_push") }
    guard OCSP_basic_verify(basic, candidates, store, UInt(OCSP_NOEXPLICIT)) == 1 else {
      throw cryptoError("verifying the response signature")
    }
  }

  private static func status(_ value: Int32) throws(ACMEError) -> OCSPStaple.Status {
    switch value {
    case V_OCSP_CERTSTATUS_GOOD: return .good
    case V_OCSP_CERTSTATUS_REVOKED: return .revoked
    case V_OCSP_CERTSTATUS_UNKNOWN: return .unknown
    default: throw ACMEError(.protocolViolation, "certificate status \(value) is not one RFC 6960 defines")
    }
  }
}
