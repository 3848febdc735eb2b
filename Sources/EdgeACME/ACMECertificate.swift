import Foundation

/// An issued certificate as downloaded (RFC 8555 §7.4.2).
public struct ACMECertificate: Sendable, Hashable {
  /// Leaf first, then the intermediates, as `application/pem-certificate-chain`.
  public let chainPEM: String
  /// The certificate URL (POST-as-GET downloads it again; revocation does not need it).
  public let url: String
  /// Other chains for the same certificate (`Link: <…>;rel="alternate"`), in the CA's order; download
  /// one with `ACMEClient.downloadCertificate(url:)` to prefer another root.
  public let alternates: [String]
  public let notBefore: Date
  public let notAfter: Date

  public init(chainPEM: String, url: String, alternates: [String], notBefore: Date, notAfter: Date) {
    self.chainPEM = chainPEM
    self.url = url
    self.alternates = alternates
    self.notBefore = notBefore
    self.notAfter = notAfter
  }
}

/// Revocation reasons (RFC 5280 §5.3.1) a subscriber may give (RFC 8555 §7.6).
public enum ACMERevocationReason: Int, Sendable, Hashable {
  case unspecified = 0
  case keyCompromise = 1
  case affiliationChanged = 3
  case superseded = 4
  case cessationOfOperation = 5
}

/// Proves control of identifiers for the CA. `present` makes the challenge answerable (serve the HTTP-01
/// body, publish the DNS-01 TXT record, install the TLS-ALPN-01 certificate) and returns once it is;
/// `cleanUp` undoes it and is always called after `present` was, whatever the outcome.
public protocol ACMEChallengeSolver: Sendable {
  /// "http-01", "dns-01" or "tls-alpn-01".
  var challengeType: String { get }
  /// `identifier` is the name as ordered (a wildcard keeps its `*.`); `keyAuthorization` is what HTTP-01
  /// serves verbatim, and the input of `ACMEKeyAuthorization.dns01Value` and `ACMETLSALPN01`.
  func present(identifier: String, token: String, keyAuthorization: String) async throws
  func cleanUp(identifier: String, token: String, keyAuthorization: String) async
}
