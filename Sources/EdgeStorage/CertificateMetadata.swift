import Foundation

/// What edge records next to a managed certificate, at `StorageKeys.metadata(name)`, as JSON with
/// snake_case keys and RFC 3339 times (`encoded()` and `decode(_:)` use exactly that form; use them rather
/// than a `JSONEncoder` of your own).
public struct CertificateMetadata: Codable, Equatable, Sendable {
  /// The ACME directory URL the certificate came from.
  public var issuer: String
  /// The names the certificate covers (its SANs), as requested.
  public var names: [String]
  public var notBefore: Date
  public var notAfter: Date
  /// The CA's suggested renewal window (ACME Renewal Information, RFC 9773), when it offers one.
  public var ari: RenewalInfo?
  public var obtainedAt: Date
  /// How many times the certificate for these names has been renewed (0 for the first issuance).
  public var renewals: Int
  /// Why the last attempt to renew failed, and when; nil after a success.
  public var lastError: String?
  public var lastErrorAt: Date?

  public struct RenewalInfo: Codable, Equatable, Sendable {
    public var windowStart: Date
    public var windowEnd: Date
    /// When to ask the CA again (its Retry-After).
    public var retryAfter: Date?

    enum CodingKeys: String, CodingKey {
      case windowStart = "window_start"
      case windowEnd = "window_end"
      case retryAfter = "retry_after"
    }

    public init(windowStart: Date, windowEnd: Date, retryAfter: Date? = nil) {
      self.windowStart = windowStart
      self.windowEnd = windowEnd
      self.retryAfter = retryAfter
    }
  }

  enum CodingKeys: String, CodingKey {
    case issuer = "issuer_url"
    case names, ari, renewals
    case notBefore = "not_before"
    case notAfter = "not_after"
    case obtainedAt = "obtained_at"
    case lastError = "last_error"
    case lastErrorAt = "last_error_at"
  }

  public init(
    issuer: String, names: [String], notBefore: Date, notAfter: Date, ari: RenewalInfo? = nil,
    obtainedAt: Date, renewals: Int = 0, lastError: String? = nil, lastErrorAt: Date? = nil
  ) {
    self.issuer = issuer
    self.names = names
    self.notBefore = notBefore
    self.notAfter = notAfter
    self.ari = ari
    self.obtainedAt = obtainedAt
    self.renewals = renewals
    self.lastError = lastError
    self.lastErrorAt = lastErrorAt
  }

  public func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return Array(try encoder.encode(self))
  }

  public static func decode(_ bytes: [UInt8]) throws -> CertificateMetadata {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(CertificateMetadata.self, from: Data(bytes))
  }
}
