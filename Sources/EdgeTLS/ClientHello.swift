/// What a client offered in its ClientHello, read from the raw bytes (`ClientHelloParser`): OpenSSL 3.0
/// hides what it does not know (GREASE, newer extensions) from `SSL_client_hello_get1_extensions_present`,
/// and a fingerprint needs them all. Values are kept as sent, GREASE included, in wire order.
public struct ClientHello: Sendable, Equatable {
  /// `legacy_version` (0x0303 from every TLS 1.3 client).
  public var legacyVersion: UInt16
  public var cipherSuites: [UInt16]
  /// Extension types in the order they were sent.
  public var extensions: [UInt16]
  /// `supported_versions` (0x002b); empty when absent.
  public var supportedVersions: [UInt16] = []
  /// `supported_groups` (0x000a).
  public var supportedGroups: [UInt16] = []
  /// `signature_algorithms` (0x000d), in the order sent.
  public var signatureAlgorithms: [UInt16] = []
  /// ALPN protocol names (0x0010), raw bytes, in the order sent.
  public var applicationProtocols: [[UInt8]] = []
  /// Whether the `server_name` extension (0x0000) is present. The name itself is never kept.
  public var hasServerName: Bool { extensions.contains(0x0000) }

  public init(legacyVersion: UInt16, cipherSuites: [UInt16], extensions: [UInt16]) {
    self.legacyVersion = legacyVersion
    self.cipherSuites = cipherSuites
    self.extensions = extensions
  }

  /// The versions offered: `supported_versions` without GREASE, else `legacy_version`.
  public var offeredVersions: [UInt16] {
    let listed = supportedVersions.filter { !Self.isGREASE($0) }
    return listed.isEmpty ? [legacyVersion] : listed
  }

  /// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa, in cipher suites, extensions, groups,
  /// versions and signature algorithms alike.
  public static func isGREASE(_ value: UInt16) -> Bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
  }
}
