import EdgeLoop

/// A Redis connection for commands, bound to one `EventLoop`.
///
/// `connect()`, `send`, `close()` and the callbacks run on `loop`; from elsewhere, hop there with
/// `loop.execute {}` or use the `async` `command`. Commands sent before a reply arrives are pipelined,
/// and their completions run in order. While the connection is down, commands fail at once with
/// `RedisError.connectionLost` and the client reconnects with backoff (100 ms doubling to 5 s, jittered).
/// Commands sent while it is (re)connecting are queued behind AUTH and SELECT.
///
/// The client keeps itself alive while connected or reconnecting: call `close()` when done.
public final class RedisClient: @unchecked Sendable {
  // Invariant: `connection` and the callbacks are used only on `loop` (preconditions in RedisConnection).
  public let url: RedisURL
  public let loop: EventLoop
  private let connection: RedisConnection

  /// `connectTimeout` bounds each attempt from resolving the host to the answer to AUTH/SELECT (TLS
  /// handshake included).
  public init(url: RedisURL, loop: EventLoop, connectTimeout: Duration = .seconds(5)) {
    self.url = url
    self.loop = loop
    connection = RedisConnection(url: url, loop: loop, connectTimeout: connectTimeout)
  }

  /// Called on `loop` with `.connected` once the server has accepted AUTH/SELECT, and with
  /// `.disconnected(reason:)` once per outage (the first failed attempt or the lost connection).
  public var onStateChange: ((RedisConnectionState) -> Void)? {
    get { connection.onStateChange }
    set { connection.onStateChange = newValue }
  }

  /// Starts connecting (loop only). Throws for what cannot work at all (`rediss://` files that do not
  /// load, code `.tls`); a server that cannot be reached, or whose certificate does not verify, is
  /// retried, and reported through `onStateChange`.
  public func connect() throws(RedisError) {
    try connection.start()
  }

  /// True between `.connected` and the next `.disconnected`.
  public var isConnected: Bool { connection.phase == .ready }

  /// Sends one command (loop only). An error reply (`-ERR …`) arrives as `.success(.error(…))`.
  public func send(_ arguments: [[UInt8]], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
    precondition(loop.inLoop, "RedisClient.send off its loop")
    if let name = arguments.first, Self.isPushCommand(name) {
      // hiredis would call the completion once per message; subscriptions belong to RedisSubscriber.
      completion(.failure(RedisError(.unsupported, "\(String(decoding: name, as: UTF8.self)): use RedisSubscriber")))
      return
    }
    switch connection.phase {
    case .idle, .closed:
      completion(.failure(.closed))
    case .waiting:
      completion(.failure(.connectionLost))
    case .connecting, .ready:
      connection.issue(arguments) { reply in
        completion(reply.map { .success($0) } ?? .failure(.connectionLost))
      }
    }
  }

  private static func isPushCommand(_ name: [UInt8]) -> Bool {
    let upper = String(decoding: name, as: UTF8.self).uppercased()
    return ["SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "MONITOR"].contains(upper)
  }

  public func send(_ arguments: [String], completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
    send(arguments.map { Array($0.utf8) }, completion: completion)
  }

  /// Sends one command from any context and waits for its reply; an error reply throws `RedisError`
  /// with code `.server`.
  public func command(_ arguments: [[UInt8]]) async throws -> RedisReply {
    let result: Result<RedisReply, RedisError> = await withCheckedContinuation { continuation in
      loop.execute {
        self.send(arguments) { continuation.resume(returning: $0) }
      }
    }
    switch result {
    case .success(.error(let message)): throw RedisError.server(message)
    case .success(let reply): return reply
    case .failure(let error): throw error
    }
  }

  public func command(_ arguments: String...) async throws -> RedisReply {
    try await command(arguments.map { Array($0.utf8) })
  }

  /// Stops reconnecting; the connection closes after the replies in flight (loop only).
  public func close() {
    connection.close()
  }
}
