import Foundation

/// What a lock holds, as JSON: `{"owner":…,"token":…,"created":…,"updated":…,"ttl_ms":…}` with times in
/// milliseconds since 1970. The same record serves every backend (a file's contents, a Redis value).
public struct LockRecord: Codable, Equatable, Sendable {
  /// Who holds the lock, as the holder named itself (node ID, process): for people reading the file.
  public var owner: String
  /// This acquisition's random token: only the holder knows it, and refresh and release compare it.
  public var token: String
  public var created: Int64
  /// When the holder last refreshed the lock.
  public var updated: Int64
  /// How long after `updated` the lock stays valid: the holder's TTL, not the reader's.
  public var ttlMilliseconds: Int64

  enum CodingKeys: String, CodingKey {
    case owner, token, created, updated
    case ttlMilliseconds = "ttl_ms"
  }

  public init(owner: String, token: String, created: Int64, updated: Int64, ttlMilliseconds: Int64) {
    self.owner = owner
    self.token = token
    self.created = created
    self.updated = updated
    self.ttlMilliseconds = ttlMilliseconds
  }

  /// Stale: not refreshed within its TTL as of `now`. A clock behind the holder's makes a lock look
  /// younger, never stale early.
  public func isStale(now: Int64) -> Bool {
    now - updated > ttlMilliseconds
  }

  public func encoded() -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding a struct of strings and integers cannot fail.
    return Array((try? encoder.encode(self)) ?? Data())
  }

  /// The record in `bytes`, nil when they are not one (damaged, or not written by edge).
  public static func decode(_ bytes: [UInt8]) -> LockRecord? {
    try? JSONDecoder().decode(LockRecord.self, from: Data(bytes))
  }
}
