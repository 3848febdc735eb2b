import EdgeCore
import EdgeLoop
internal import EdgeTLS

/// What `RedisClient` and `RedisSubscriber` report when their connection comes up or goes down.
public enum RedisConnectionState: Hashable, Sendable {
  /// Connected, authenticated and on the configured database.
  case connected
  /// The connection dropped or an attempt failed; the client retries with backoff.
  case disconnected(reason: String)
}

/// One connection at a time to one server, on one loop: resolve, connect (and TLS for `rediss://`), AUTH,
/// SELECT, and reconnect with backoff.
///
/// The socket is edge's own `TCPStream`, so `redis://` and `rediss://` differ only by the
/// `TLSClientLayer` under it; hiredis parses replies (`RedisReplyReader`) and drives nothing. Replies are
/// matched to commands in order (`ReplyQueue`); a reply no command waits for (pub/sub messages and
/// subscription confirmations) goes to `didReceivePush`.
///
/// Lifetime: the stream holds this object as its delegate while open, and the resolve, connect and timer
/// closures hold it while they wait, so the connection lives until `close()` whoever else lets go of it.
final class RedisConnection {
  enum Phase { case idle, connecting, ready, waiting, closed }

  let url: RedisURL
  let loop: EventLoop
  /// How long resolving, connecting, the TLS handshake and AUTH/SELECT may take together.
  let connectTimeout: Duration
  private(set) var phase = Phase.idle
  private let resolver: Resolver
  /// The TLS context `start()` built (to fail early on files that do not load), for the first attempt;
  /// later attempts read the files again, so a rotated client certificate or CA is picked up.
  private var firstTLSContext: TLSClientContext?
  /// The current attempt's socket, once TCP connected.
  private(set) var stream: TCPStream?
  /// Counts attempts: a resolve or connect that finishes after its attempt ended is ignored.
  private var attempt = 0
  /// Commands issued before the socket connected (the handshake first), sent once it has.
  private var outbox: [UInt8] = []
  private var replies = ReplyQueue()
  private(set) var reader = RedisReplyReader()
  /// Why the TLS layer failed, for the report (the stream only says "protocol error").
  private(set) var tlsFailure: TLSFailure?
  /// `close()` came while replies were in flight: the socket closes after the last one.
  private var closeWhenAnswered = false
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
    resolver = Resolver(loop: loop)
  }

  /// Starts the first attempt. Throws when the TLS files of a `rediss://` URL do not load: retrying
  /// cannot help until someone fixes them.
  func start() throws(RedisError) {
    precondition(loop.inLoop, "RedisConnection used off its loop")
    guard phase == .idle else { return }
    if url.tls { firstTLSContext = try makeTLSContext() }
    open()
  }

  /// Stops reconnecting. A ready connection closes once the replies in flight have arrived; one still
  /// connecting closes now, failing what was queued.
  func close() {
    precondition(loop.inLoop, "RedisConnection used off its loop")
    let previous = phase
    guard previous != .closed else { return }
    phase = .closed
    timer?.close()
    timer = nil
    handshakeTimer?.close()
    handshakeTimer = nil
    if previous == .ready, stream != nil, !replies.isEmpty {
      closeWhenAnswered = true
    } else if previous == .ready || previous == .connecting {
      closeStream(politely: previous == .ready)
      ended(previous == .ready ? "connection closed" : "closed")
    }
  }

  // MARK: commands

  /// Queues a command whose reply (or `nil` when the connection ends first) goes to `completion`.
  func issue(_ arguments: [[UInt8]], _ completion: @escaping (RedisReply?) -> Void) {
    guard phase == .connecting || phase == .ready else { return completion(nil) }
    replies.append(completion)
    send(arguments)
  }

  /// Sends a command whose replies arrive through `didReceivePush` (SUBSCRIBE, UNSUBSCRIBE). Only on a
  /// connection with no command in flight: replies go to the oldest command first.
  func issuePush(_ arguments: [[UInt8]]) {
    guard phase == .connecting || phase == .ready else { return }
    send(arguments)
  }

  private func send(_ arguments: [[UInt8]]) {
    guard let stream else { return RedisCommandEncoder.append(arguments, to: &outbox) }
    // The stream batches writes of one loop iteration into one syscall (and one TLS record).
    stream.write(RedisCommandEncoder.encode(arguments))
  }

  /// A reply from the server: to the oldest command waiting, else a push.
  func received(_ reply: RedisReply) {
    guard let completion = replies.popFirst() else {
      didReceivePush?(reply)
      return
    }
    completion(reply)
    if closeWhenAnswered && replies.isEmpty {
      closeStream(politely: true)
      ended("connection closed")
    }
  }

  // MARK: life cycle

  private func open() {
    phase = .connecting
    attempt += 1
    let current = attempt
    outbox = []
    tlsFailure = nil
    reader = RedisReplyReader()
    var tlsContext = firstTLSContext
    firstTLSContext = nil
    if url.tls && tlsContext == nil {
      do throws(RedisError) {
        tlsContext = try makeTLSContext()
      } catch {
        return ended(error.message)
      }
    }
    sendHandshake()
    let deadline = handshakeTimer ?? LoopTimer(loop: loop)
    handshakeTimer = deadline
    deadline.start(after: connectTimeout.milliseconds) {
      guard self.phase == .connecting, self.attempt == current else { return }
      self.fail("no answer within \(self.connectTimeout)")
    }
    resolver.resolve(host: url.host, port: url.port) { result in
      guard self.phase == .connecting, self.attempt == current else { return }
      switch result {
      case .failure(let error): self.fail("\(error)")
      case .success(let addresses): self.dial(addresses[...], current, tlsContext)
      }
    }
  }

  /// Connects to the first address that accepts, in the resolver's order: `localhost` may come as ::1
  /// first to a server bound to 127.0.0.1 only (hiredis tried IPv4 first; this tries both).
  private func dial(_ addresses: ArraySlice<SocketAddress>, _ current: Int, _ tlsContext: TLSClientContext?) {
    guard let address = addresses.first else { return }
    TCPStream.connect(on: loop, to: address, timeoutMilliseconds: connectTimeout.milliseconds) { result in
      guard self.phase == .connecting, self.attempt == current else {
        if case .success(let late) = result { late.close() }
        return
      }
      switch result {
      case .failure where addresses.count > 1: self.dial(addresses.dropFirst(), current, tlsContext)
      case .failure(let error): self.fail("\(error)")
      case .success(let stream): self.connected(stream, tlsContext)
      }
    }
  }

  private func connected(_ stream: TCPStream, _ tlsContext: TLSClientContext?) {
    if let tlsContext {
      do {
        let layer = try TLSClientLayer.attach(
          to: stream, context: tlsContext, serverName: url.tlsOptions.serverName ?? url.host)
        layer.onFailure = { [weak self] failure in self?.tlsFailure = failure }
      } catch {
        stream.close()
        return fail("starting TLS: \(error)")
      }
    }
    self.stream = stream
    stream.delegate = self
    // A silent partition must end the connection (and start reconnecting) in seconds: commands would
    // time out one by one and a subscription would wait forever for messages that cannot come.
    stream.detectDeadPeer(idle: .seconds(5), deadAfter: .seconds(10))
    stream.startReading()
    // Written now, sent once TLS is up: the stream holds plaintext until its layer is established.
    if !outbox.isEmpty { stream.write(outbox) }
    outbox = []
  }

  /// Closes the current socket (if any) without another word; `ended` follows.
  func closeStream(politely: Bool = false) {
    guard let stream else { return }
    self.stream = nil
    // Politely: the commands already written, then close_notify for TLS, then FIN.
    if politely { stream.closeAfterFlush() } else { stream.close() }
  }

  /// Ends the current attempt or connection because of `what` (said from its place in the life cycle).
  func fail(_ what: String) {
    let reason = phase == .connecting ? "connecting to \(url): \(what)" : "\(url): \(what)"
    closeStream()
    ended(reason)
  }

  /// The current attempt or connection is over (its socket already closed): fail what waits for a reply,
  /// then retry unless closed.
  private func ended(_ reason: String) {
    handshakeTimer?.stop()
    closeWhenAnswered = false
    outbox = []
    if phase != .closed { phase = .waiting }
    // Completions run after the phase changed, so a command they send fails at once instead of waiting
    // in a queue no reply will ever reach.
    for completion in replies.removeAll() { completion(nil) }
    if phase == .waiting { scheduleReconnect() }
    didGoDown?()
    report(.disconnected(reason: reason))
  }

  /// AUTH and SELECT go first, ahead of any command queued while connecting; a PING when there is
  /// neither, so that "ready" always means the server has answered.
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
          self.fail("\(step[0]) failed: \(message)")
        } else if reply != .status(expected) {
          self.fail("\(step[0]) got \(reply) instead of \(expected): not a redis server")
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

  private func makeTLSContext() throws(RedisError) -> TLSClientContext {
    let options = url.tlsOptions
    let configuration = TLSClientConfiguration(
      trustedCAFile: options.caFile, certificateFile: options.certificateFile, privateKeyFile: options.keyFile,
      insecureSkipVerify: options.insecureSkipVerify)
    do {
      return try TLSClientContext(configuration: configuration)
    } catch {
      throw RedisError(.tls, "connecting to \(url): \(error)")
    }
  }
}
