import EdgeCore

/// TLS-ALPN-01 (RFC 8737) answers: the self-signed certificate the ACME agent made for a name while its
/// challenge is pending. A ClientHello for that name that offers only `acme-tls/1` gets it, with
/// `acme-tls/1` selected, and the connection ends after the handshake; every other client of that name
/// is served as usual. Shared by every listener; the agent adds and removes entries from any thread.
public final class ChallengeCertificates: Sendable {
  private let entries = Locked<[String: CertifiedKey]>([:])

  public init() {}

  public func present(_ key: CertifiedKey, for name: String) {
    entries.withLock { $0[name.lowercased()] = key }
  }

  public func remove(for name: String) {
    _ = entries.withLock { $0.removeValue(forKey: name.lowercased()) }
  }

  public func certificate(for name: String) -> CertifiedKey? {
    entries.withLock { $0.isEmpty ? nil : $0[name] }
  }

  /// The ALPN protocol of a TLS-ALPN-01 validation.
  public static let protocolName = "acme-tls/1"
}
