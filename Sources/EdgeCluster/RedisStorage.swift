import EdgeCore
import EdgeRedis
import EdgeStorage
import Foundation

/// Storage shared by the nodes of a cluster, in Redis: what one node stores, every node loads, and one
/// node at a time holds a lock.
///
/// **Layout.** Every key starts with `prefix` (`edge:prod:`), so clusters can share a server:
///
///     <prefix>s:<key>      hash: v = the bytes, m = modification time (Unix ms, the server's clock),
///                          e = 1 when v is sealed, else 0
///     <prefix>index        sorted set, every score 0: the stored keys, for list, exists and stat of
///                          directories (ZRANGEBYLEX `[dir/` .. `[dir/\xff`)
///     <prefix>lock:<name>  string "<owner> <token hex>" with a PX expiry: a held lock (lock:)
///
/// A store (HSET and ZADD) and a delete (the key, or a directory and everything under it, from the hashes
/// and the index) are each one Lua script, so readers see the old state or the new, never a mix.
/// Directories are prefixes of indexed keys, as in `FileStorage`.
///
/// **Secrets.** A `secret: true` value is sealed with the cluster secret, bound to its key, before it
/// leaves the process: Redis (its dumps, its replicas, whoever can read them) never holds a private key in
/// plaintext, and a sealed value copied to another key does not open.
///
/// **Challenge answers** (`acme/challenges/…`) expire after an hour and stay out of the index: nobody lists
/// them, and the index must not collect entries that vanish on their own. A delete of their directory does
/// not reach them (they expire anyway).
///
/// **Blocking.** Every method hops to the client's loop, sends, and waits at most `timeout`; a timeout or a
/// lost connection is `StorageError.io`. Never call one on the client's loop: it would wait for itself.
///
/// **Mirror.** With a local `mirror` (a `FileStorage`), values stored, loaded or deleted through Redis are
/// copied there, and while Redis cannot be reached `load`, `exists`, `list` and `stat` answer from it: a
/// node keeps serving, and restarts, with the certificates it had. `store`, `delete` and `lock` still fail
/// then: they must not pretend to have reached the cluster. The mirror only knows what passed through this
/// node, so during an outage it may lag behind the cluster. Challenge answers are not mirrored: they are of
/// no use without Redis, and on disk they would outlive their expiry.
///
/// Keys follow `StorageKey`, and `locks/…` is refused as in `FileStorage`, so every key here can also be
/// mirrored.
public final class RedisStorage: CertificateStorage {
  public let client: RedisClient
  /// What every Redis key of this storage starts with: one cluster's namespace.
  public let prefix: String
  public let mirror: (any CertificateStorage)?
  /// The longest any call waits for Redis.
  public let timeout: Duration
  let secret: ClusterSecret
  private let reachable = Locked(true)
  private let mirrorErrorHandler = Locked<(@Sendable (_ key: String, _ error: any Error) -> Void)?>(nil)

  /// Keys under this prefix expire and are not indexed: pending ACME challenge answers.
  static let ephemeralPrefix = StorageKeys.acmePrefix + "/challenges"
  /// How long a challenge answer lives: far longer than any validation takes.
  static let ephemeralLifetime: Duration = .seconds(3600)

  /// `client` must be connected (or connecting) by its owner, who also closes it.
  public init(
    client: RedisClient, prefix: String, secret: ClusterSecret, mirror: (any CertificateStorage)? = nil,
    timeout: Duration = .seconds(5)
  ) {
    self.client = client
    self.prefix = prefix
    self.secret = secret
    self.mirror = mirror
    self.timeout = timeout
  }

  /// Whether the last call reached Redis (an error reply counts: the server answered).
  public var isReachable: Bool { reachable.withLock { $0 } }

  /// Called, on the caller's thread, when copying to or deleting from the mirror failed. Such a failure is
  /// not the caller's (Redis has the value), so it is reported only here.
  public var onMirrorError: (@Sendable (_ key: String, _ error: any Error) -> Void)? {
    get { mirrorErrorHandler.withLock { $0 } }
    set { mirrorErrorHandler.withLock { $0 = newValue } }
  }

  // MARK: values

  public func load(_ key: String) throws -> [UInt8] {
    guard let found = try loadMany([key])[0] else { throw StorageError.notFound(key: key) }
    return found.value
  }

  /// Several values and their modification times in one round trip (nil where nothing is stored): a
  /// certificate, its key and its stamp cost one network latency, not three. While Redis is unreachable,
  /// answered from the mirror, as `load` is.
  public func loadMany(_ keys: [String]) throws -> [(value: [UInt8], modified: Date)?] {
    for key in keys { try Self.validate(key) }
    let replies: [RedisReply]
    do {
      replies = try exchange(keys.map { .command(Self.arguments("HMGET", hashKey($0), "v", "e", "m")) })
    } catch {
      guard let mirror else { throw unreachable(error, doing: "loading \(keys.joined(separator: ", "))") }
      return try keys.map { key in
        do {
          let value = try mirror.load(key)
          return (value, (try? mirror.stat(key).modified) ?? Date(timeIntervalSince1970: 0))
        } catch StorageError.notFound {
          return nil
        }
      }
    }
    return try zip(keys, replies).map { key, reply in
      let fields = try Self.array(reply, count: 3, doing: "loading \(key)")
      guard let stored = fields[0].bytes else { return nil }
      let sealed = fields[1].string == "1"
      let value: [UInt8]
      if sealed {
        do {
          value = try secret.open(stored, name: key)
        } catch {
          throw StorageError.io(
            operation: "opening \(key) from redis", errno: nil,
            detail: "sealed under another cluster secret, or changed since it was sealed")
        }
      } else {
        value = stored
      }
      if !Self.isEphemeral(key) { refreshMirror(key, value, secret: sealed) }
      let milliseconds = fields[2].string.flatMap { Double($0) } ?? 0
      return (value, Date(timeIntervalSince1970: milliseconds / 1000))
    }
  }

  public func store(_ key: String, _ value: [UInt8], secret isSecret: Bool) throws {
    try Self.validateWritable(key)
    var stored = value
    if isSecret {
      do {
        stored = try secret.seal(value, name: key)
      } catch {
        throw StorageError.io(operation: "sealing \(key)", errno: nil, detail: error.description)
      }
    }
    let expiry = Self.isEphemeral(key) ? String(Self.ephemeralLifetime.milliseconds) : "0"
    let request = RedisRequest.script(
      .store, keys: Self.arguments(hashKey(key), indexKey),
      arguments: [stored, Self.bytes(isSecret ? "1" : "0"), Self.bytes(key), Self.bytes(expiry)])
    let replies = try exchangeOrThrow([request], doing: "storing \(key)")
    try Self.check(replies[0], doing: "storing \(key)")
    guard !Self.isEphemeral(key), let mirror else { return }
    do {
      try mirror.store(key, value, secret: isSecret)
    } catch {
      onMirrorError?(key, error)
    }
  }

  public func delete(_ key: String) throws {
    try Self.validateWritable(key)
    let request = RedisRequest.script(
      .delete, keys: Self.arguments(indexKey), arguments: Self.arguments(prefix + "s:", key))
    let replies = try exchangeOrThrow([request], doing: "deleting \(key)")
    try Self.check(replies[0], doing: "deleting \(key)")
    guard let mirror else { return }
    do {
      try mirror.delete(key)
    } catch {
      onMirrorError?(key, error)
    }
  }

  /// Sends one command and waits for its reply, as the storage's own calls do (for tests, and for what the
  /// storage does not cover). An error reply is `StorageError.io`, like an unreachable server.
  public func command(_ arguments: [[UInt8]]) throws(StorageError) -> RedisReply {
    let name = arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? "an empty command"
    let replies = try exchangeOrThrow([.command(arguments)], doing: "running \(name)")
    try Self.check(replies[0], doing: "running \(name)")
    return replies[0]
  }

  public func command(_ arguments: String...) throws(StorageError) -> RedisReply {
    try command(Self.arguments(arguments))
  }

  // MARK: talking to Redis

  /// Runs `requests` in one round trip and records whether Redis answered.
  func exchange(_ requests: [RedisRequest]) throws(RedisUnreachable) -> [RedisReply] {
    do {
      let replies = try RedisExchange.run(requests, on: client, timeout: timeout)
      reachable.withLock { $0 = true }
      return replies
    } catch {
      reachable.withLock { $0 = false }
      throw error
    }
  }

  /// `exchange` for calls without a fallback: not reaching Redis is their failure.
  func exchangeOrThrow(_ requests: [RedisRequest], doing operation: String) throws(StorageError) -> [RedisReply] {
    do {
      return try exchange(requests)
    } catch {
      throw unreachable(error, doing: operation)
    }
  }

  func unreachable(_ error: RedisUnreachable, doing operation: String) -> StorageError {
    .io(operation: "\(operation) in redis", errno: nil, detail: error.detail)
  }

  func hashKey(_ key: String) -> String { prefix + "s:" + key }
  var indexKey: String { prefix + "index" }
  func lockKey(_ name: String) -> String { prefix + "lock:" + name }

  static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
  static func arguments(_ texts: String...) -> [[UInt8]] { arguments(texts) }
  static func arguments(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }

  static func isEphemeral(_ key: String) -> Bool {
    key == ephemeralPrefix || key.hasPrefix(ephemeralPrefix + "/")
  }
}
