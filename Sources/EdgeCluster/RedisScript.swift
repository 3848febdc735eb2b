internal import COpenSSL

/// A Lua script Redis runs atomically, and the SHA1 that EVALSHA names it by.
struct RedisScript: Sendable {
  let source: String
  /// Lower-case hex, as Redis prints it.
  let sha1: String

  init(_ source: String) {
    self.source = source
    let bytes = Array(source.utf8)
    var digest = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 0
    // SHA1 of a buffer in memory fails only without memory; an empty name then makes EVALSHA answer
    // NOSCRIPT, and the script goes as EVAL every time: slower, still right.
    let hashed = EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha1(), nil) == 1 && length == 20
    sha1 = hashed ? digest.map { byte in String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16) }.joined() : ""
  }

  /// `EVALSHA sha1 …` or `EVAL source …`.
  func command(_ name: String, keys: [[UInt8]], arguments: [[UInt8]]) -> [[UInt8]] {
    let script = name == "EVAL" ? source : sha1
    return [Array(name.utf8), Array(script.utf8), Array(String(keys.count).utf8)] + keys + arguments
  }
}

/// The scripts behind `RedisStorage`. Each one is a single atomic step on the server: no reader sees half
/// of a store or a delete.
extension RedisScript {
  /// Stores a value. KEYS: the value's hash, the index. ARGV: the bytes, `1` when sealed (else `0`), the
  /// storage key, and an expiry in milliseconds (`0`: none, and the key goes into the index).
  ///
  /// The modification time is the Redis server's clock, so the nodes of a cluster agree on the order of
  /// writes whatever their own clocks say. Returns it.
  static let store = RedisScript(
    #"""
    local now = redis.call('TIME')
    local modified = string.format('%.0f', now[1] * 1000 + math.floor(now[2] / 1000))
    redis.call('HSET', KEYS[1], 'v', ARGV[1], 'm', modified, 'e', ARGV[2])
    if ARGV[4] ~= '0' then
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
    else
      redis.call('ZADD', KEYS[2], 0, ARGV[3])
    end
    return modified
    """#)

  /// Deletes a key and, when it is a directory, everything under it. KEYS: the index. ARGV: the prefix of
  /// the value hashes (`<prefix>s:`), the storage key. `\255` is the byte 0xFF, which no UTF-8 key holds,
  /// so `[key/` .. `[key/\255` spans exactly the keys below `key`. Returns how many values went.
  static let delete = RedisScript(
    #"""
    local hashes, key = ARGV[1], ARGV[2]
    local first, last = '[' .. key .. '/', '[' .. key .. '/\255'
    local removed = redis.call('DEL', hashes .. key)
    redis.call('ZREM', KEYS[1], key)
    local below = redis.call('ZRANGEBYLEX', KEYS[1], first, last)
    for i = 1, #below do
      removed = removed + redis.call('DEL', hashes .. below[i])
    end
    redis.call('ZREMRANGEBYLEX', KEYS[1], first, last)
    return removed
    """#)

  /// Restarts a lock's TTL if it is still ours. KEYS: the lock. ARGV: our value, the TTL in milliseconds.
  /// Returns 1, or 0 when the lock is gone or someone else's.
  static let refreshLock = RedisScript(
    #"""
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      return redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    return 0
    """#)

  /// Removes a lock if it is still ours. KEYS: the lock. ARGV: our value. Returns 1, or 0 when it was not.
  static let releaseLock = RedisScript(
    #"""
    if redis.call('GET', KEYS[1]) == ARGV[1] then
      return redis.call('DEL', KEYS[1])
    end
    return 0
    """#)
}
