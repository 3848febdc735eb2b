import Dispatch
import EdgeCore

/// TLS-ALPN-01 (RFC 8737) answers: the self-signed certificate the ACME agent made for a name while its
/// challenge is pending. A ClientHello for that name that offers only `acme-tls/1` gets it, with
/// `acme-tls/1` selected, and the connection ends after the handshake; every other client of that name
/// is served as usual. Shared by every listener; the agent adds and removes entries from any thread.
public final class ChallengeCertificates: Sendable {
  private let entries = Locked<[String: CertifiedKey]>([:])
  /// Where answers another node put up are found (cluster storage). It may block: run on `lookups`.
  private let shared = Locked<(@Sendable (String) -> CertifiedKey?)?>(nil)
  private let lookups = DispatchQueue(label: "edge.acme.tls-alpn-01", attributes: .concurrent)

  public init() {}

  /// Answers from shared storage for names this process has no challenge for.
  public func useShared(_ lookup: @escaping @Sendable (String) -> CertifiedKey?) {
    shared.withLock { $0 = lookup }
  }

  /// Whether validations for names not pending here are looked up elsewhere.
  public var hasShared: Bool { shared.withLock { $0 != nil } }

  /// Looks `name` up in shared storage off the loop; `done` runs on a dispatch queue.
  public func askShared(_ name: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    guard let lookup = shared.withLock({ $0 }) else { return done(nil) }
    lookups.async { done(lookup(name)) }
  }

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
