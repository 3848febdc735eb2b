internal import CEdgeShims
internal import CHiredis
import EdgeCore
import EdgeLoop

/// What `RedisClient` and `RedisSubscriber` report when their connection comes up or goes down.
public enum RedisConnectionState: Hashable, Sendable {
  /// Connected, authenticated and on the configured database.
  case connected
  /// The connection dropped or an attempt failed; the client retries with backoff.
  case disconnected(reason: String)
}

/// One hiredis async context at a time on one loop: connect, AUTH, SELECT, and reconnect with backoff.
///
/// Each context holds a retained reference to this object in `data`, released exactly once in
/// `contextEnded` (connect failure, disconnect, or a close before the socket connected): the connection
/// lives as long as a context or a reconnect timer does, that is until `close()`.
final class RedisConnection {
  enum Phase { case idle, connecting, ready, waiting, closed }

  let url: RedisURL
  let loop: EventLoop
  /// How long connecting plus AUTH/SELECT may take before the attempt is abandoned.
  let connectTimeout: Duration
  private(set) var phase = Phase.idle
  private var context: UnsafeMutablePointer<redisAsyncContext>?
  private var retained: Unmanaged<RedisConnection>?
  private var socketConnected = false
  /// Why the current context is being torn down by us (a failed AUTH), for the report.
  private var failure: String?
  private var backoff = Backoff()
  private var timer: LoopTimer?
  private var handshakeTimer: LoopTimer?
  private var lastReported: RedisConnectionState?

  var onStateChange: ((RedisConnectionState) -> Void)?
  /// The connection is ready for commands (after AUTH/SELECT); `reconnected` is false the first time.
  var didBecomeReady: ((_ reconnected: Bool) -> Void)?
  /// The connection or an attempt ended; commands in flight have failed already.
  var didGoDown: (() -> Void)?
  /// A reply that belongs to no command: pub/sub messages and subscription confirmations.
  var didReceivePush: ((RedisReply) -> Void)?
  private var everReady = false

  init(url: RedisURL, loop: EventLoop, connectTimeout: Duration) {
    self.url = url
    self.loop = loop
    self.connectTimeout = connectTimeout
  }

  func start() throws(RedisError) {
    precondition(loop.inLoop, "RedisConnection used off its loop")
    if url.tls { throw RedisError(.unsupported, "connecting to \(url): TLS (rediss://) is not supported yet") }
    guard phase == .idle else { return }
    open()
  }

  /// Stops reconnecting and closes the connection once the replies in flight have arrived.
  func close() {
    precondition(loop.inLoop, "RedisConnection used off its loop")
    guard phase != .closed else { return }
    phase = .closed
    timer?.close()
    timer = nil
    handshakeTimer?.close()
    handshakeTimer = nil
    guard let context else { return }
    if socketConnected {
      redisAsyncDisconnect(context)  // the disconnect callback ends the context
    } else {
      // hiredis calls neither callback for a context that never connected.
      redisAsyncFree(context)
      contextEnded(reason: "closed")
    }
  }

  // MARK: commands

  /// Queues a command whose reply (or `nil` when the connection ends first) goes to `completion`.
  func issue(_ arguments: [[UInt8]], _ completion: @escaping (RedisReply?) -> Void) {
    guard let context else {
      completion(nil)
      return
    }
    let pending = Unmanaged.passRetained(PendingReply(completion)).toOpaque()
    let status = Self.withArgv(arguments) { argc, argv, lengths in
      redisAsyncCommandArgv(context, replyCallback, pending, argc, argv, lengths)
    }
    if status != REDIS_OK {
      Unmanaged<PendingReply>.fromOpaque(pending).release()
      completion(nil)
    }
  }

  /// Queues a command whose replies arrive through `didReceivePush` (SUBSCRIBE, UNSUBSCRIBE).
  func issuePush(_ arguments: [[UInt8]]) {
    guard let context else { return }
    _ = Self.withArgv(arguments) { argc, argv, lengths in
      redisAsyncCommandArgv(context, replyCallback, nil, argc, argv, lengths)
    }
  }

  /// hiredis copies the arguments into its output buffer before returning, so one scratch block will do.
  private static func withArgv<R>(
    _ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
  ) -> R {
    let total = arguments.reduce(0) { $0 + $1.count }
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
    let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(arguments.count, 1))
    let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(arguments.count, 1))
    defer {
      bytes.deallocate()
      argv.deallocate()
      lengths.deallocate()
    }
    var offset = 0
    for (index, argument) in arguments.enumerated() {
      argument.withUnsafeBytes { raw in
        if let base = raw.baseAddress { (bytes + offset).copyMemory(from: base, byteCount: raw.count) }
      }
      argv[index] = UnsafePointer((bytes + offset).assumingMemoryBound(to: CChar.self))
      lengths[index] = argument.count
      offset += argument.count
    }
    return body(Int32(arguments.count), argv, lengths)
  }

  // MARK: life cycle

  private func open() {
    phase = .connecting
    socketConnected = false
    failure = nil
    guard let context = redisAsyncConnect(url.host, Int32(url.port)) else {
      attemptFailed("connecting to \(url): out of memory")
      return
    }
    if context.pointee.err != 0 {
      let reason = "connecting to \(url): \(String(cString: context.pointee.errstr))"
      redisAsyncFree(context)
      attemptFailed(reason)
      return
    }
    if edge_redis_attach_uv(context, loop.uvLoopPointer.assumingMemoryBound(to: uv_loop_t.self)) != REDIS_OK {
      redisAsyncFree(context)
      attemptFailed("connecting to \(url): attaching hiredis to libuv failed")
      return
    }
    self.context = context
    retained = Unmanaged.passRetained(self)
    context.pointee.data = retained!.toOpaque()
    redisAsyncSetConnectCallback(context) { raw, status in
      guard let raw, let data = raw.pointee.data else { return }
      let me = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
      if status == REDIS_OK {
        me.socketConnected = true
      } else {
        // hiredis frees the context after this without calling the disconnect callback.
        me.contextEnded(reason: "connecting to \(me.url): \(String(cString: raw.pointee.errstr))")
      }
    }
    redisAsyncSetDisconnectCallback(context) { raw, status in
      guard let raw, let data = raw.pointee.data else { return }
      let me = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
      let reason =
        me.failure ?? (status == REDIS_OK ? "connection closed" : "\(me.url): \(String(cString: raw.pointee.errstr))")
      me.contextEnded(reason: reason)
    }
    sendHandshake()
    let deadline = handshakeTimer ?? LoopTimer(loop: loop)
    handshakeTimer = deadline
    deadline.start(after: connectTimeout.milliseconds) {
      guard self.phase == .connecting, let context = self.context else { return }
      self.abandon(context, reason: "connecting to \(self.url): no answer within \(self.connectTimeout)")
    }
  }

  /// Drops a context that hangs (a server that accepts and never answers), whatever is in flight.
  private func abandon(_ context: UnsafeMutablePointer<redisAsyncContext>, reason: String) {
    failure = reason
    let connected = socketConnected
    redisAsyncFree(context)  // a connected context ends through the disconnect callback
    if !connected { contextEnded(reason: reason) }
  }

  /// AUTH and SELECT go first in the output buffer, ahead of any command queued while connecting; a PING
  /// when there is neither, so that "ready" always means the server has answered.
  private func sendHandshake() {
    var steps: [[String]] = []
    if let password = url.password {
      steps.append(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password])
    }
    if url.database != 0 { steps.append(["SELECT", String(url.database)]) }
    if steps.isEmpty { steps.append(["PING"]) }
    for (index, step) in steps.enumerated() {
      let isLast = index == steps.count - 1
      issue(step.map { Array($0.utf8) }) { reply in
        guard let reply, self.phase == .connecting else { return }
        // Only a server answers +OK / +PONG. Anything else is not Redis — e.g. a socket that connected
        // to itself: retrying a local port nobody listens on can pick that very port as the source, and
        // the echoed PING would parse as an array reply.
        let expected = step[0] == "PING" ? "PONG" : "OK"
        if case .error(let message) = reply {
          self.failure = "\(self.url): \(step[0]) failed: \(message)"
          if let context = self.context { redisAsyncDisconnect(context) }
        } else if reply != .status(expected) {
          self.failure = "\(self.url): \(step[0]) got \(reply) instead of \(expected): not a redis server"
          if let context = self.context { redisAsyncDisconnect(context) }
        } else if isLast {
          self.becomeReady()
        }
      }
    }
  }

  private func becomeReady() {
    handshakeTimer?.stop()
    phase = .ready
    backoff.reset()
    let reconnected = everReady
    everReady = true
    didBecomeReady?(reconnected)
    report(.connected)
  }

  /// Called exactly once per context that `open()` handed to hiredis.
  private func contextEnded(reason: String) {
    context = nil
    socketConnected = false
    handshakeTimer?.stop()
    let release = retained
    retained = nil
    attemptFailed(reason)
    release?.release()  // last: it may free self
  }

  private func attemptFailed(_ reason: String) {
    if phase != .closed {
      phase = .waiting
      scheduleReconnect()
    }
    didGoDown?()
    report(.disconnected(reason: reason))
  }

  private func scheduleReconnect() {
    let timer = self.timer ?? LoopTimer(loop: loop)
    self.timer = timer
    // The timer's closure keeps the connection alive while it waits; `close()` closes the timer.
    timer.start(after: backoff.nextDelay()) {
      guard self.phase == .waiting else { return }
      self.open()
    }
  }

  private func report(_ state: RedisConnectionState) {
    switch (lastReported, state) {
    case (.disconnected?, .disconnected): return  // one report per outage, not per attempt
    default: break
    }
    lastReported = state
    onStateChange?(state)
  }
}

/// The completion of one command, carried through hiredis as `privdata`.
private final class PendingReply {
  let completion: (RedisReply?) -> Void
  init(_ completion: @escaping (RedisReply?) -> Void) { self.completion = completion }
}

/// hiredis calls this once per command (with a NULL reply when the connection ends first), and for
/// subscriptions once per message with no `privdata`.
private let replyCallback: @convention(c) (
  UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
) -> Void = { context, reply, privdata in
  let decoded = reply.map { RedisReply(copying: $0.assumingMemoryBound(to: redisReply.self)) }
  if let privdata {
    Unmanaged<PendingReply>.fromOpaque(privdata).takeRetainedValue().completion(decoded)
  } else if let decoded, let data = context?.pointee.data {
    Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue().didReceivePush?(decoded)
  }
}
