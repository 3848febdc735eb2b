/// A CA's directory (RFC 8555 §7.1.1, plus `renewalInfo` from RFC 9773 §3).
public struct ACMEDirectory: Sendable, Hashable, Decodable {
  public let newNonce: String
  public let newAccount: String
  public let newOrder: String
  public let revokeCert: String?
  public let keyChange: String?
  /// RFC 9773 ARI base URL; nil when the CA has no renewal information (pebble 2.4).
  public let renewalInfo: String?
  public let meta: Meta?

  public struct Meta: Sendable, Hashable, Decodable {
    public let termsOfService: String?
    public let website: String?
    public let caaIdentities: [String]?
    public let externalAccountRequired: Bool?
  }
}
