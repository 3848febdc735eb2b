import EdgeCore
import EdgeRedis
import EdgeStorage

/// Locks as Redis strings: `<prefix>lock:<name>` holds `"<owner> <token>"` with a PX expiry of the TTL.
///
/// Taking is `SET … NX PX`: exactly one taker creates the key. A holder that stops refreshing loses the
/// lock when Redis expires the key, and the next `SET NX` takes it; no reader has to judge staleness, so
/// the nodes' clocks do not matter. Refresh and release are compare-then-act Lua scripts on the whole
/// value, whose random token tells this acquisition apart from any later one, even by the same owner.
/// The owner comes first so that a person (or a test) reading the key sees which node holds it; the token
/// is the last word.
extension RedisStorage {
  public func lock(_ name: String, owner: String, ttl: Duration) throws -> StorageLock? {
    guard !name.isEmpty else { throw StorageError.invalidKey(name, reason: "empty lock name") }
    let token = Self.randomToken()
    let value = owner + " " + token
    let milliseconds = String(max(1, ttl.milliseconds))
    let replies = try exchangeOrThrow(
      [.command(Self.arguments("SET", lockKey(name), value, "NX", "PX", milliseconds))], doing: "taking lock '\(name)'")
    switch replies[0] {
    case .null:
      return nil  // held, by someone else or by this owner: locks do not nest
    case .status("OK"):
      return StorageLock(
        name: name, owner: owner, ttl: ttl, token: token,
        refresh: { try self.refreshLock(name, value: value, milliseconds: milliseconds) },
        release: { try self.releaseLock(name, value: value) })
    default:
      throw Self.unexpected(replies[0], doing: "taking lock '\(name)'")
    }
  }

  private func refreshLock(_ name: String, value: String, milliseconds: String) throws(StorageError) {
    let request = RedisRequest.script(
      .refreshLock, keys: Self.arguments(lockKey(name)), arguments: Self.arguments(value, milliseconds))
    let replies = try exchangeOrThrow([request], doing: "refreshing lock '\(name)'")
    switch replies[0] {
    case .integer(1): return
    case .integer(0): throw .lockLost(name: name)
    default: throw Self.unexpected(replies[0], doing: "refreshing lock '\(name)'")
    }
  }

  private func releaseLock(_ name: String, value: String) throws(StorageError) {
    let request = RedisRequest.script(.releaseLock, keys: Self.arguments(lockKey(name)), arguments: Self.arguments(value))
    let replies = try exchangeOrThrow([request], doing: "releasing lock '\(name)'")
    try Self.check(replies[0], doing: "releasing lock '\(name)'")
  }

  /// 128 random bits as hex, from the system's secure generator.
  private static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<2).map { _ in
      let word = String(generator.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - word.count) + word
    }.joined()
  }
}
