/// A certificate or key that could not be loaded. Its description reads like Caddy's chained errors:
/// `loading certificate a.example.crt: key does not match certificate`.
public struct CertificateError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Reason: Sendable, Equatable {
    /// The chain PEM holds no certificate.
    case noCertificate
    /// The key PEM holds no private key OpenSSL can read.
    case noPrivateKey
    /// The key is neither EC nor RSA.
    case unsupportedKeyType
    /// The private key is not the one the leaf certificate was issued for.
    case keyMismatch
    /// The PEM text could not be parsed (OpenSSL's explanation follows).
    case malformed(String)
    /// A file could not be read (OpenSSL's explanation follows).
    case unreadable(String)
  }

  public let reason: Reason
  /// What was being loaded (a file name), if known.
  public let source: String?

  public init(_ reason: Reason, source: String? = nil) {
    self.reason = reason
    self.source = source
  }

  public var description: String {
    let what: String
    switch reason {
    case .noCertificate: what = "no certificate in PEM"
    case .noPrivateKey: what = "no private key in PEM"
    case .unsupportedKeyType: what = "unsupported key type (want EC or RSA)"
    case .keyMismatch: what = "key does not match certificate"
    case .malformed(let detail): what = "malformed PEM: \(detail)"
    case .unreadable(let detail): what = "unreadable: \(detail)"
    }
    return source.map { "loading certificate \($0): \(what)" } ?? "loading certificate: \(what)"
  }
}
