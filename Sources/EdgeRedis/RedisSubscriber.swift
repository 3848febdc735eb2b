import EdgeLoop

/// A connection in pub/sub mode, bound to one `EventLoop`: SUBSCRIBE to channels, get each message
/// through `onMessage`. After a reconnect it subscribes to every channel again and, once the server has
/// confirmed them all, calls `onResubscribed`: messages published while it was down are lost, so that is
/// the moment for the caller to reconcile (re-read what the messages would have announced).
///
/// Everything runs on `loop`, like `RedisClient`; call `close()` when done.
public final class RedisSubscriber: @unchecked Sendable {
  // Invariant: every stored property is used only on `loop` (preconditions in RedisConnection and here).
  public let url: RedisURL
  public let loop: EventLoop
  private let connection: RedisConnection
  /// Channels the caller wants, whether or not the server has them right now.
  public private(set) var channels: Set<String> = []
  /// SUBSCRIBEs sent and not yet confirmed, oldest first, with what to run once they all are.
  private var unconfirmed: [(channels: Set<String>, then: () -> Void)] = []
  /// `subscribe` completions waiting for the connection.
  private var waiting: [() -> Void] = []

  /// A message: its channel and payload bytes.
  public var onMessage: ((_ channel: String, _ payload: [UInt8]) -> Void)?
  /// After a reconnect, every channel is subscribed again (the server confirmed them).
  public var onResubscribed: ((_ channels: [String]) -> Void)?
  public var onStateChange: ((RedisConnectionState) -> Void)? {
    get { connection.onStateChange }
    set { connection.onStateChange = newValue }
  }

  public init(url: RedisURL, loop: EventLoop, connectTimeout: Duration = .seconds(5)) {
    self.url = url
    self.loop = loop
    connection = RedisConnection(url: url, loop: loop, connectTimeout: connectTimeout)
    // Weak: the connection keeps itself alive until `close()`, and may outlive a subscriber dropped without it.
    connection.didBecomeReady = { [weak self] reconnected in self?.resubscribe(reconnected: reconnected) }
    connection.didGoDown = { [weak self] in
      guard let self else { return }
      waiting += unconfirmed.map(\.then)
      unconfirmed = []
    }
    connection.didReceivePush = { [weak self] reply in self?.received(reply) }
  }

  /// Starts connecting (loop only); see `RedisClient.connect()`.
  public func connect() throws(RedisError) {
    try connection.start()
  }

  /// Adds channels (loop only). `then` runs once the server has confirmed them (after the connection
  /// comes up, if it is down now).
  public func subscribe(_ newChannels: [String], then: (() -> Void)? = nil) {
    precondition(loop.inLoop, "RedisSubscriber used off its loop")
    let added = newChannels.filter { channels.insert($0).inserted }
    let then = then ?? {}
    guard connection.phase == .ready else {
      waiting.append(then)
      return
    }
    guard !added.isEmpty else { return then() }
    unconfirmed.append((Set(added), then))
    connection.issuePush([Array("SUBSCRIBE".utf8)] + added.map { Array($0.utf8) })
  }

  /// Drops channels (loop only).
  public func unsubscribe(_ oldChannels: [String]) {
    precondition(loop.inLoop, "RedisSubscriber used off its loop")
    let removed = oldChannels.filter { channels.remove($0) != nil }
    guard connection.phase == .ready, !removed.isEmpty else { return }
    connection.issuePush([Array("UNSUBSCRIBE".utf8)] + removed.map { Array($0.utf8) })
  }

  public func close() {
    connection.close()
  }

  private func resubscribe(reconnected: Bool) {
    let all = channels.sorted()
    let done = waiting
    waiting = []
    let finish = { [weak self] in
      guard let self else { return }
      for then in done { then() }
      if reconnected { onResubscribed?(all) }
    }
    guard !all.isEmpty else { return finish() }
    unconfirmed.append((Set(all), finish))
    connection.issuePush([Array("SUBSCRIBE".utf8)] + all.map { Array($0.utf8) })
  }

  private func received(_ reply: RedisReply) {
    guard let parts = reply.array, parts.count == 3, let kind = parts[0].string, let channel = parts[1].string else {
      return
    }
    switch kind {
    case "message":
      onMessage?(channel, parts[2].bytes ?? [])
    case "subscribe":
      guard let index = unconfirmed.firstIndex(where: { $0.channels.contains(channel) }) else { return }
      unconfirmed[index].channels.remove(channel)
      if unconfirmed[index].channels.isEmpty {
        let then = unconfirmed.remove(at: index).then
        then()
      }
    default:
      break
    }
  }
}
