import Foundation

extension ACMEClient {
  /// Revokes a certificate (the first of `certificatePEM`, RFC 8555 §7.6). Signed by the account unless
  /// `certificateKeyPEM` is given (P-256 only): then by the certificate's own key, which works for
  /// whoever holds it, account or not.
  public func revoke(
    certificatePEM: String, reason: ACMERevocationReason? = nil, certificateKeyPEM: String? = nil
  ) async throws {
    let leaf = try ACMELeafCertificate(chainPEM: certificatePEM)
    try await withContext("revoking certificate \(leaf.serialHex)") {
      guard let url = try await directory().revokeCert else {
        throw ACMEError(.protocolViolation, "the directory has no revokeCert")
      }
      let payload = RevocationPayload(certificate: Base64URL.encode(leaf.der), reason: reason?.rawValue)
      let signature: Signature = try certificateKeyPEM.map { .key(try ACMEAccountKey(pem: $0)) } ?? .account
      _ = try await post(url, payload, signature: signature)
    }
  }

  /// The CA's renewal suggestion for a certificate (RFC 9773), or nil when the CA offers none (its
  /// directory has no `renewalInfo`). The request is an unauthenticated GET of `renewalInfo/<certID>`.
  public func renewalInfo(certificatePEM: String) async throws -> ACMERenewalInfo? {
    guard let base = try await directory().renewalInfo else { return nil }
    let leaf = try ACMELeafCertificate(chainPEM: certificatePEM)
    guard let certificateID = leaf.renewalCertificateID else {
      throw ACMEError(.invalidInput, "certificate \(leaf.serialHex) has no authorityKeyIdentifier")
    }
    let url = base.hasSuffix("/") ? base + certificateID : "\(base)/\(certificateID)"
    return try await withContext("fetching renewal information \(url)") {
      let response = try await unsigned(ACMEHTTPRequest(method: "GET", url: url))
      let body = try decode(RenewalInfoBody.self, response, "renewalInfo")
      guard let start = RFC3339.parse(body.suggestedWindow.start), let end = RFC3339.parse(body.suggestedWindow.end)
      else { throw ACMEError(.protocolViolation, "suggestedWindow has unparsable timestamps") }
      guard end >= start else { throw ACMEError(.protocolViolation, "suggestedWindow ends before it starts") }
      return ACMERenewalInfo(
        suggestedWindow: ACMERenewalWindow(start: start, end: end), explanationURL: body.explanationURL,
        retryAfter: RetryAfter.parse(response.headers["Retry-After"]))
    }
  }
}
