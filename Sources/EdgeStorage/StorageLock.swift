/// A lock held in a `CertificateStorage`, as `lock(_:owner:ttl:)` returned it. Each acquisition has its
/// own random token, so an owner that lost the lock (it went stale and someone took it over) can neither
/// refresh nor release the new holder's lock, even when both use the same owner string.
///
/// Backends make one with the closures that refresh and release their record of it.
public struct StorageLock: Sendable {
  public let name: String
  public let owner: String
  /// How long the lock stays valid after each refresh.
  public let ttl: Duration
  /// Tells this acquisition apart from any other of the same lock.
  public let token: String
  private let refreshBody: @Sendable () throws -> Void
  private let releaseBody: @Sendable () throws -> Void

  public init(
    name: String, owner: String, ttl: Duration, token: String,
    refresh: @escaping @Sendable () throws -> Void, release: @escaping @Sendable () throws -> Void
  ) {
    self.name = name
    self.owner = owner
    self.ttl = ttl
    self.token = token
    refreshBody = refresh
    releaseBody = release
  }

  /// Restarts the TTL. Throws `StorageError.lockLost` when the lock is no longer this acquisition's (it
  /// went stale and was taken, or was removed); other errors leave the lock as it was and may be retried.
  public func refresh() throws { try refreshBody() }

  /// Removes the lock if this acquisition still holds it, and does nothing otherwise: a holder that lost
  /// its lock cannot free someone else's.
  public func release() throws { try releaseBody() }
}
