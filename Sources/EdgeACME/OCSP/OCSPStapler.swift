import Foundation

/// Fetches OCSP responses to staple (RFC 6960 over HTTP, Appendix A.1).
///
/// ```swift
/// var configuration = ACMEHTTPSTransport.Configuration()
/// configuration.allowInsecureHTTP = true  // OCSP responders are plain http by design
/// let transport = try ACMEHTTPSTransport(configuration: configuration)
/// if let staple = try await OCSPFetch.staple(chainPEM: chain, transport: transport) {
///   key.setOCSPResponse(staple.isStapleable ? staple.der : nil)
///   // fetch again at staple.refreshDate()
/// }
/// ```
public enum OCSPFetch {
  /// The verified response for the chain's leaf, or nil when there is nothing to fetch: the leaf names no
  /// OCSP responder in its authorityInfoAccess, or the chain has no second certificate (the issuer).
  ///
  /// Throws, never returning a doubtful response, when the responder cannot be reached, answers
  /// anything but HTTP 200 with a `successful` OCSPResponse, signs with a key that is neither the
  /// issuer's nor one the issuer delegated to, answers for another certificate, or answers with times
  /// that are not current. A `revoked` answer is returned (status `.revoked`): the caller must not
  /// staple it, should say so loudly, and should replace the certificate.
  ///
  /// The responder URL is usually `http://`: the transport must allow plain http.
  public static func staple(chainPEM: String, transport: any ACMETransport) async throws -> OCSPStaple? {
    try await staple(chainPEM: chainPEM, transport: transport, now: Date())
  }

  /// The same, judging the response's times against `now` (tests).
  static func staple(chainPEM: String, transport: any ACMETransport, now: Date) async throws -> OCSPStaple? {
    guard let subject = try OCSPSubject(chainPEM: chainPEM) else { return nil }
    return try await withContext("OCSP from \(subject.responderURL)") {
      let request = ACMEHTTPRequest(
        method: "POST", url: subject.responderURL,
        headers: ["Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"],
        body: try subject.requestDER())
      let response = try await transport.send(request)
      guard response.status == 200 else {
        throw ACMEError(.server, "responder answered HTTP \(response.status)", httpStatus: response.status)
      }
      return try subject.staple(fromResponse: response.body, now: now)
    }
  }
}
