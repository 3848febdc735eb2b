/// What one site asks of TLS beyond its listener's defaults (`tls { protocols … ciphers … curves … }`),
/// applied to a connection from the client-hello callback, before anything is negotiated.
public struct TLSSitePolicy: Sendable, Equatable {
  /// The versions the site accepts; nil: the listener's.
  public var versions: ClosedRange<TLSVersion>?
  /// TLS 1.2 cipher suites, OpenSSL names joined by `:`; nil: the listener's.
  public var tls12Ciphers: String?
  /// Key-exchange groups, OpenSSL names joined by `:`; nil: the listener's.
  public var groups: String?

  public init(versions: ClosedRange<TLSVersion>? = nil, tls12Ciphers: String? = nil, groups: String? = nil) {
    self.versions = versions
    self.tls12Ciphers = tls12Ciphers
    self.groups = groups
  }

  public var isEmpty: Bool { versions == nil && tls12Ciphers == nil && groups == nil }
}
