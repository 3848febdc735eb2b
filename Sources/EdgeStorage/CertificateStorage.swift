import Foundation

/// Where edge keeps certificates, keys, ACME accounts and the locks that make one node at a time do an
/// issuance. The file system is the embedded default (`FileStorage`); a shared backend (Redis) implements
/// the same protocol so that several nodes see one set of certificates.
///
/// Keys are `/`-separated strings (`certificates/a.example.com.crt`) with non-empty segments; no segment is
/// `.` or `..` or starts with a dot, and a key never starts or ends with `/`. Values are bytes. "Directories"
/// are the prefixes of stored keys: they exist while something is stored under them.
///
/// Every method may block on I/O. Call them from a thread or task that can wait, never from an event loop.
public protocol CertificateStorage: Sendable {
  /// The value at `key`; `StorageError.notFound` when there is none (or `key` is a directory).
  func load(_ key: String) throws -> [UInt8]

  /// Stores `value` at `key`, replacing what was there. Readers see the old value or the new one, never a
  /// mix. `secret` (private key material) keeps the value readable by edge's own user only.
  func store(_ key: String, _ value: [UInt8], secret: Bool) throws

  /// Removes `key`, and when it is a directory everything under it. Removing what is not there is not an
  /// error: the call fails only if the key may still exist afterwards.
  func delete(_ key: String) throws

  /// Whether anything (a value or a directory) is at `key`. A key that cannot be valid does not exist.
  func exists(_ key: String) -> Bool

  /// Keys under `prefix` (`""` for all), sorted. Not recursive: the next level down, values and
  /// directories alike (`stat` tells them apart). Recursive: every value below, at any depth, and no
  /// directories. A prefix with nothing under it gives `[]`.
  func list(_ prefix: String, recursive: Bool) throws -> [String]

  /// What is at `key`; `StorageError.notFound` when nothing is.
  func stat(_ key: String) throws -> StorageInfo

  /// Takes the lock `name` for `owner` if it is free or stale, without waiting: nil when someone holds it
  /// and has refreshed it within its TTL (including this same owner, through another `lock` call: locks do
  /// not nest). The holder must `refresh()` more often than `ttl` or lose it to the next taker, and should
  /// `release()` it when done. `withLock` does all three.
  func lock(_ name: String, owner: String, ttl: Duration) throws -> StorageLock?
}

/// What `stat` tells about a key.
public struct StorageInfo: Equatable, Sendable {
  public var key: String
  public var modified: Date
  /// The value's length in bytes (0 for a directory).
  public var size: Int
  /// True for a value, false for a directory (a prefix of other keys).
  public var isTerminal: Bool

  public init(key: String, modified: Date, size: Int, isTerminal: Bool) {
    self.key = key
    self.modified = modified
    self.size = size
    self.isTerminal = isTerminal
  }
}
