extension ACMEClient {
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
