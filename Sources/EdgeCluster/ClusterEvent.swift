import Foundation

/// A message nodes of one cluster send each other on Redis pub/sub. Pub/sub is fire-and-forget: a node
/// that was away misses events, so an event is only ever a hint to re-read Redis ("certificate X changed",
/// "configuration N is out"), never the data itself; a node that reconnects re-reads everything instead.
///
/// On the wire: the JSON object, a newline, and the lower-case hex HMAC-SHA256 of the JSON under the
/// cluster secret's signing key. Anyone who can publish on Redis but lacks the secret cannot make nodes act
/// on an event; a captured event replayed later than `maximumAge` is dropped.
public struct ClusterEvent: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case certificateIssued = "cert.issued"
    case certificateRenewed = "cert.renewed"
    case certificateDeleted = "cert.deleted"
    case configChanged = "config.changed"
    case nodeJoined = "node.joined"
    case nodeLeft = "node.left"
  }

  public var type: Kind
  /// The certificate name (cert.*).
  public var name: String?
  /// Which version the event announces: a certificate's serial, a configuration's number.
  public var version: String?
  /// The node that sent it.
  public var node: String
  /// When it was sent, Unix seconds.
  public var ts: Double

  public init(type: Kind, name: String? = nil, version: String? = nil, node: String, ts: Double = Date().timeIntervalSince1970) {
    self.type = type
    self.name = name
    self.version = version
    self.node = node
    self.ts = ts
  }

  /// Events older (or from further in the future) than this are refused: replays, or a node whose clock
  /// is badly off.
  public static let maximumAge: Double = 300

  /// The signed wire form.
  public func encoded(secret: ClusterSecret) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let json = Array(try encoder.encode(self))
    return json + [0x0A] + Array(try secret.signHex(json).utf8)
  }

  public enum DecodeError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case badSignature
    case stale(ageSeconds: Int)

    public var description: String {
      switch self {
      case .malformed(let why): "malformed cluster event: \(why)"
      case .badSignature: "cluster event with a bad signature (another cluster secret, or forged)"
      case .stale(let age): "cluster event \(age) s away from this node's clock (replayed, or a clock is off)"
      }
    }
  }

  /// Checks the signature and age, then decodes. Never trusts what it cannot verify.
  public static func decode(_ payload: [UInt8], secret: ClusterSecret, now: Double = Date().timeIntervalSince1970) throws(DecodeError) -> ClusterEvent {
    guard payload.count < 64 * 1024 else { throw .malformed("\(payload.count) bytes") }
    guard let newline = payload.lastIndex(of: 0x0A) else { throw .malformed("no signature line") }
    let json = Array(payload[..<newline])
    guard secret.verify(json, hexSignature: payload[(newline + 1)...]) else { throw .badSignature }
    let event: ClusterEvent
    do {
      event = try JSONDecoder().decode(ClusterEvent.self, from: Data(json))
    } catch {
      throw .malformed("\(error)")
    }
    guard event.ts.isFinite, abs(now - event.ts) <= maximumAge else { throw .stale(ageSeconds: Int(max(-1e9, min(1e9, now - event.ts)))) }
    return event
  }
}

/// The names of everything one cluster keeps in Redis, all under `edge:<cluster>:`.
///
///     edge:<c>:s:<storage key>     hash: a stored value (RedisStorage)
///     edge:<c>:index               sorted set: every stored key (RedisStorage)
///     edge:<c>:lock:<name>         string "<owner> <token>", PX TTL (RedisStorage)
///     edge:<c>:config              hash: version, json, node, ts — the shared configuration
///     edge:<c>:node:<id>           hash: a member's heartbeat, expires unless refreshed
///     edge:<c>:events              pub/sub channel of signed ClusterEvents
public struct ClusterKeys: Sendable, Equatable {
  public let cluster: String
  public let prefix: String

  /// `cluster`: letters, digits, `-`, `_`, `.` (it is part of every key).
  public init(cluster: String) throws(ClusterNameError) {
    guard !cluster.isEmpty, cluster.count <= 64,
      cluster.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) })
    else { throw ClusterNameError(name: cluster) }
    self.cluster = cluster
    prefix = "edge:\(cluster):"
  }

  public var config: String { prefix + "config" }
  public var events: String { prefix + "events" }
  public func node(_ id: String) -> String { prefix + "node:" + id }
  public var nodePattern: String { prefix + "node:*" }
}

public struct ClusterNameError: Error, CustomStringConvertible, Equatable {
  public let name: String
  public var description: String { "cluster name '\(name)': use 1 to 64 letters, digits, '-', '_' or '.'" }
}
