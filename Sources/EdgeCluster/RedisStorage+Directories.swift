import EdgeRedis
import EdgeStorage
import Foundation

/// `exists`, `list` and `stat`: the calls that also see directories, which exist as prefixes of the keys in
/// the index. Each is one round trip, and each answers from the mirror when Redis cannot be reached.
extension RedisStorage {
  public func exists(_ key: String) -> Bool {
    guard StorageKey.isValid(key) else { return false }
    let replies: [RedisReply]
    do {
      replies = try exchange([.command(Self.arguments("EXISTS", hashKey(key))), firstBelow(key)])
    } catch {
      return mirror?.exists(key) ?? false
    }
    return replies[0].integer == 1 || replies[1].array?.isEmpty == false
  }

  public func list(_ prefix: String, recursive: Bool) throws -> [String] {
    if !prefix.isEmpty { try Self.validate(prefix) }
    let (first, last) = Self.bounds(below: prefix)
    let replies: [RedisReply]
    do {
      replies = try exchange([.command([Self.bytes("ZRANGEBYLEX"), Self.bytes(indexKey), first, last])])
    } catch {
      guard let mirror else { throw unreachable(error, doing: "listing \(prefix.isEmpty ? "everything" : prefix)") }
      return try mirror.list(prefix, recursive: recursive)
    }
    guard let members = replies[0].array else {
      throw Self.unexpected(replies[0], doing: "listing \(prefix)")
    }
    let keys = members.compactMap(\.bytes)
    // The index holds values only: exactly what a recursive listing gives.
    if recursive { return keys.map { String(decoding: $0, as: UTF8.self) }.sorted() }
    // One level down: the first segment after the prefix, a value or a directory, each once.
    let skip = prefix.isEmpty ? 0 : prefix.utf8.count + 1
    var children = Set<String>()
    for key in keys where key.count > skip {
      let rest = key[skip...]
      let segment = rest.firstIndex(of: UInt8(ascii: "/")).map { rest[..<$0] } ?? rest
      children.insert(StorageKey.join(prefix, String(decoding: segment, as: UTF8.self)))
    }
    return children.sorted()
  }

  /// A value's `size` is the plaintext's length, also for a sealed value (the stored length less
  /// `ClusterSecret.sealingOverhead`), so it does not depend on whether the value is a secret, and it
  /// matches the mirror's. Redis keeps no time for a directory: its `modified` is the Unix epoch.
  public func stat(_ key: String) throws -> StorageInfo {
    try Self.validate(key)
    let replies: [RedisReply]
    do {
      replies = try exchange([
        .command(Self.arguments("HMGET", hashKey(key), "m", "e")),
        .command(Self.arguments("HSTRLEN", hashKey(key), "v")),
        firstBelow(key),
      ])
    } catch {
      guard let mirror else { throw unreachable(error, doing: "reading the status of \(key)") }
      return try mirror.stat(key)
    }
    let fields = try Self.array(replies[0], count: 2, doing: "reading the status of \(key)")
    if let modified = fields[0].string {
      guard let milliseconds = Int64(modified), let stored = replies[1].integer else {
        throw Self.unexpected(replies[0], doing: "reading the status of \(key)")
      }
      let sealed = fields[1].string == "1"
      let size = sealed ? max(0, Int(stored) - ClusterSecret.sealingOverhead) : Int(stored)
      return StorageInfo(
        key: key, modified: Date(timeIntervalSince1970: Double(milliseconds) / 1000), size: size, isTerminal: true)
    }
    if replies[2].array?.isEmpty == false {
      return StorageInfo(key: key, modified: Date(timeIntervalSince1970: 0), size: 0, isTerminal: false)
    }
    throw StorageError.notFound(key: key)
  }

  /// The first indexed key below `key`, if any: whether `key` is a directory.
  private func firstBelow(_ key: String) -> RedisRequest {
    let (first, last) = Self.bounds(below: key)
    return .command([Self.bytes("ZRANGEBYLEX"), Self.bytes(indexKey), first, last] + Self.arguments("LIMIT", "0", "1"))
  }

  /// ZRANGEBYLEX bounds for every key below `directory` (`""`: all keys). 0xFF never occurs in UTF-8, so
  /// `[dir/\xff` is past every key that starts with `dir/`.
  static func bounds(below directory: String) -> (first: [UInt8], last: [UInt8]) {
    if directory.isEmpty { return (bytes("-"), bytes("+")) }
    return (bytes("[" + directory + "/"), bytes("[" + directory + "/") + [0xFF])
  }
}
