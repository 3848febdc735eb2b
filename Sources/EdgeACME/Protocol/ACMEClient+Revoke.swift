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
}
