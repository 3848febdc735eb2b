internal import CHiredis

/// One RESP2 reply, copied out of hiredis' `redisReply` (which hiredis frees when the callback returns).
public enum RedisReply: Hashable, Sendable {
  /// `+OK`, `+PONG`, `+QUEUED`.
  case status(String)
  /// `-ERR …`: the command failed on the server. `RedisClient.command` throws it as `RedisError.server`.
  case error(String)
  case integer(Int64)
  /// A bulk string: binary-safe bytes.
  case bulk([UInt8])
  case array([RedisReply])
  /// A nil bulk string or nil array (`GET` of a missing key, `SET NX` that did not set).
  case null

  /// The bytes of a bulk or status reply.
  public var bytes: [UInt8]? {
    switch self {
    case .bulk(let bytes): bytes
    case .status(let text): Array(text.utf8)
    default: nil
    }
  }

  /// A bulk or status reply as UTF-8 text (invalid sequences repaired).
  public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

  public var integer: Int64? {
    if case .integer(let value) = self { value } else { nil }
  }

  public var array: [RedisReply]? {
    if case .array(let elements) = self { elements } else { nil }
  }

  public var isNull: Bool { self == .null }

  init(copying raw: UnsafePointer<redisReply>) {
    let reply = raw.pointee
    switch reply.type {
    case REDIS_REPLY_STRING:
      self = .bulk(Self.copyBytes(reply.str, reply.len))
    case REDIS_REPLY_STATUS:
      self = .status(String(decoding: Self.copyBytes(reply.str, reply.len), as: UTF8.self))
    case REDIS_REPLY_ERROR:
      self = .error(String(decoding: Self.copyBytes(reply.str, reply.len), as: UTF8.self))
    case REDIS_REPLY_INTEGER:
      self = .integer(Int64(reply.integer))
    case REDIS_REPLY_ARRAY:
      var elements: [RedisReply] = []
      elements.reserveCapacity(reply.elements)
      for index in 0..<reply.elements {
        if let element = reply.element[index] { elements.append(RedisReply(copying: element)) } else { elements.append(.null) }
      }
      self = .array(elements)
    default:
      self = .null
    }
  }

  private static func copyBytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
    guard let pointer, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: count))
  }
}
