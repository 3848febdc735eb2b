import EdgeRedis
import EdgeStorage

/// Keys checked before they reach Redis, replies checked after, and the mirror kept in step with loads.
extension RedisStorage {
  /// `StorageKey`'s rules: the same keys are valid in every backend.
  static func validate(_ key: String) throws(StorageError) {
    _ = try StorageKey.segments(key)
  }

  /// A key that may be stored or deleted: valid, and not under `locks/`, which `FileStorage` keeps for its
  /// locks, so that a mirror can take every key this storage takes.
  static func validateWritable(_ key: String) throws(StorageError) {
    try validate(key)
    if key == "locks" || key.hasPrefix("locks/") {
      throw .invalidKey(key, reason: "'locks/' is reserved for the storage's locks")
    }
  }

  /// Fails on an error reply (the server answered, but the command failed).
  static func check(_ reply: RedisReply, doing operation: String) throws(StorageError) {
    if case .error(let message) = reply {
      throw .io(operation: "\(operation) in redis", errno: nil, detail: message)
    }
  }

  /// The elements of an array reply of `count` elements.
  static func array(_ reply: RedisReply, count: Int, doing operation: String) throws(StorageError) -> [RedisReply] {
    guard let elements = reply.array, elements.count == count else { throw unexpected(reply, doing: operation) }
    return elements
  }

  /// An error reply, or a reply of a shape the command cannot give (another program wrote the key).
  static func unexpected(_ reply: RedisReply, doing operation: String) -> StorageError {
    if case .error(let message) = reply {
      return .io(operation: "\(operation) in redis", errno: nil, detail: message)
    }
    return .io(operation: "\(operation) in redis", errno: nil, detail: "unexpected reply \(reply)")
  }

  /// Makes the mirror's copy of `key` equal to `value` (just loaded from Redis) when it is not already:
  /// a value another node stored reaches this node's mirror at its first load.
  func refreshMirror(_ key: String, _ value: [UInt8], secret: Bool) {
    guard let mirror else { return }
    if let copy = try? mirror.load(key), copy == value { return }
    do {
      try mirror.store(key, value, secret: secret)
    } catch {
      onMirrorError?(key, error)
    }
  }
}
