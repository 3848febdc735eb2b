import EdgeCore

/// The certificates a node can serve without asking anyone, shared by every listener and loop.
///
/// Readers (one per handshake) take the current immutable `Snapshot` under a mutex held only to copy a
/// reference. Writers build a new snapshot beside it and swap it in, so a handshake that starts after a
/// swap sees the new certificate and one in flight keeps the certificate it chose.
public final class CertificateCache: Sendable {
  /// One immutable view: certificates by exact name (`a.example.com`) or wildcard (`*.example.com`).
  public final class Snapshot: Sendable {
    public let byName: [String: CertifiedKey]
    /// Served when the client sends no server name, or one nobody has a certificate for.
    public let defaultCertificate: CertifiedKey?

    init(byName: [String: CertifiedKey], defaultCertificate: CertifiedKey?) {
      self.byName = byName
      self.defaultCertificate = defaultCertificate
    }

    /// The certificate for `serverName` (lower-case): an exact name first, then a wildcard covering
    /// exactly its first label (`*.example.com` covers `a.example.com`, not `b.a.example.com`).
    public func lookup(serverName: String) -> CertifiedKey? {
      if let exact = byName[serverName] { return exact }
      return WildcardName.covering(serverName).flatMap { byName[$0] }
    }
  }

  private let current: Locked<Snapshot>
  /// Serializes writers, so two inserts never build from the same old snapshot (readers never take it).
  /// It guards a count of updates rather than nothing: with an empty value, the inout access ThreadSanitizer
  /// tracks sat at the object's first word, which every thread reads unlocked (the generic class's
  /// metadata), and `make tsan` reported a race that was not one.
  private let writer = Locked(UInt64(0))

  public init(defaultCertificate: CertifiedKey? = nil) {
    current = Locked(Snapshot(byName: [:], defaultCertificate: defaultCertificate))
  }

  /// The current snapshot (a reference copy).
  public var snapshot: Snapshot { current.withLock { $0 } }

  /// The certificate for `serverName` (compared case-insensitively), without the default.
  public func lookup(serverName: String) -> CertifiedKey? {
    snapshot.lookup(serverName: serverName.lowercased())
  }

  public var defaultCertificate: CertifiedKey? { snapshot.defaultCertificate }

  /// Serves `key` for every name it covers, replacing what served those names before.
  public func insert(_ key: CertifiedKey) {
    update { names, _ in
      for name in key.names { names[name] = key }
    }
  }

  /// Stops serving `old` (under every name that still maps to it) and serves `new` for its names: a renewal.
  public func replace(_ old: CertifiedKey, with new: CertifiedKey) {
    update { names, _ in
      names = names.filter { $0.value !== old }
      for name in new.names { names[name] = new }
    }
  }

  /// Stops serving `key` under every name that maps to it.
  public func remove(_ key: CertifiedKey) {
    update { names, defaultCertificate in
      names = names.filter { $0.value !== key }
      if defaultCertificate === key { defaultCertificate = nil }
    }
  }

  /// Stops serving anything under `name` (exact or `*.` wildcard, as written).
  public func remove(name: String) {
    update { names, _ in names[name.lowercased()] = nil }
  }

  /// Sets (or clears) the certificate for clients that send no name or an unknown one.
  public func setDefault(_ key: CertifiedKey?) {
    update { _, defaultCertificate in defaultCertificate = key }
  }

  private func update(_ change: (inout [String: CertifiedKey], inout CertifiedKey?) -> Void) {
    writer.withLock { updates in
      updates &+= 1
      let old = snapshot
      var names = old.byName
      var defaultCertificate = old.defaultCertificate
      change(&names, &defaultCertificate)
      let new = Snapshot(byName: names, defaultCertificate: defaultCertificate)
      current.withLock { $0 = new }
    }
  }
}
