/// A Redis call that failed: what kind of failure (`code`, for callers to branch on) and what happened.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Code: Hashable, Sendable {
    /// The URL is not a `redis://` or `rediss://` URL edge understands.
    case invalidURL
    /// The call asks for something this client does not do (SUBSCRIBE through `RedisClient`).
    case unsupported
    /// A `rediss://` URL's CA, certificate or key file does not load.
    case tls
    /// The connection dropped (or was down) before the reply arrived. The command may or may not have run.
    case connectionLost
    /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`).
    case server
    /// The client was closed, or used before `connect()`.
    case closed
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }

  public static let connectionLost = RedisError(.connectionLost, "redis connection lost")
  public static let closed = RedisError(.closed, "redis client closed or not connected")
  static func server(_ message: String) -> RedisError { RedisError(.server, "redis: \(message)") }
  static func invalidURL(_ url: String, _ why: String) -> RedisError {
    RedisError(.invalidURL, "invalid redis URL '\(RedisURL.redacting(url))': \(why)")
  }
}
