import EdgeConfig
import EdgeCore
import EdgeHTTP1
import EdgeLoop
import EdgeMetrics
import EdgeProxy
import EdgeTLS
import Logging
import Synchronization

/// Everything one worker loop owns: its listeners, connections, tunnels and upstream pool, and the
/// current route table. A reload swaps `routes`; a connection reads it once per request.
public final class Worker: @unchecked Sendable {
  // Invariant: everything but `routeBox`, `budget` and `evictor` (Sendable; other workers use them) is used
  // only on `loop`'s thread (`loop.checkIsolated()` guards the entry points called from elsewhere through
  // `loop.execute`; another worker's eviction request arrives that way too).
  public let loop: EventLoop
  public let pool: UpstreamPool
  public let logger: Logger
  private let routeBox: Locked<RouteTable>
  private var connections: [ObjectIdentifier: HTTPConnection] = [:]
  /// Connections without a request under way, oldest first: who gives way at `max_connections`.
  var waiting = WaitingConnections()
  /// The node's connection count and `max_connections`, shared by every worker.
  public let budget: ConnectionBudget
  /// This worker's part in `budget`: its waiting count, and how others ask it to evict. Set once, at the
  /// end of `init` (it refers to the worker).
  private(set) var evictor: ConnectionBudget.Evictor!
  /// Connections with no request under way now; other workers read it (through `evictor`) to know whom
  /// to ask for an eviction.
  var waitingNow = 0 {
    didSet { evictor.waiting.store(waitingNow, ordering: .relaxed) }
  }
  /// Connections evicted and refused at the limit since the last warning, and when that was (loop ms).
  var limitEvents = (evicted: 0, refused: 0, warnedAt: UInt64(0))
  private var tunnels: [ObjectIdentifier: Tunnel] = [:]
  /// HTTP/2 client connections; their streams' connections are reached through them.
  private var sessions: [ObjectIdentifier: HTTP2Session] = [:]
  private var listeners: [Int: [TCPListener]] = [:]
  public private(set) var draining = false
  /// Open connections and tunnels, readable from any thread (shutdown waits for it to reach 0).
  public let live = Atomic<Int>(0)
  /// The `Date` field of edge's own responses, formatted once a second.
  let date = DateFieldCache()
  /// Where TLS layers on this loop put decrypted bytes on their way to a connection.
  private let tlsPlaintext = ByteBuffer(capacity: 64 * 1024)
  /// Connection and tunnel series, shared by every worker.
  private static let accepted = Families.connectionsAccepted.counter()
  private static let openConnections = Families.connectionsActive.gauge()
  private static let openTunnels = Families.tunnelsActive.gauge()
  private static let tunnelsOpened = Families.tunnelsOpened.counter()
  static let evictedCounter = Families.connectionsEvicted.counter()
  static let refusedCounter = Families.connectionsRefused.counter()
  /// Makes the connection series exist before the first connection (a dashboard shows 0, not nothing).
  public static func registerMetrics() {
    _ = (accepted, openConnections, openTunnels, tunnelsOpened, evictedCounter, refusedCounter)
  }
  /// ACME HTTP-01 answers, shared with the node's ACME agent.
  public let challenges: HTTPChallenges
  /// Access lines on their way to their files.
  let accessLog: AccessLogBuffer

  public init(
    loop: EventLoop, routes: RouteTable, logger: Logger, challenges: HTTPChallenges = HTTPChallenges(),
    budget: ConnectionBudget = ConnectionBudget(limit: .max)
  ) {
    self.loop = loop
    self.budget = budget
    self.challenges = challenges
    self.pool = UpstreamPool(loop: loop, resolver: Resolver(loop: loop))
    self.accessLog = AccessLogBuffer(loop: loop)
    self.logger = logger
    self.routeBox = Locked(routes)
    evictor = Self.makeEvictor(for: self)
    budget.register(evictor)
  }

  /// The table new requests use.
  public var routes: RouteTable {
    get { routeBox.withLock { $0 } }
    set { routeBox.withLock { $0 = newValue } }
  }

  /// Opens this loop's own socket for each address (SO_REUSEPORT). Call on the loop, or before it runs.
  public func listen(on addresses: [(SocketAddress, Int)]) throws(UVError) {
    for (address, port) in addresses {
      let listener = try TCPListener(loop: loop, address: address) { [unowned self] stream in
        self.accept(stream, port: port)
      }
      listeners[port, default: []].append(listener)
    }
  }

  /// Stops accepting on `port`; connections already accepted go on.
  public func stopListening(on port: Int) {
    loop.checkIsolated()
    for listener in listeners.removeValue(forKey: port) ?? [] { listener.close() }
  }

  private func accept(_ stream: TCPStream, port: Int) {
    if draining { return stream.close() }
    guard admit() else { return stream.close() }
    let table = routes
    if let inbound = table.forwarding.proxyProtocol {
      let policy = inbound.policy(for: stream.peerIP())
      if policy != .skip {
        // The load balancer's PROXY header comes before TLS and HTTP: read it first.
        ProxyHeaderReader.start(stream, policy: policy, timeoutMilliseconds: inbound.timeoutMilliseconds) {
          [weak self] outcome in
          guard let self else { return stream.close() }
          switch outcome {
          case .serve(let source, let destination, let rest):
            self.serve(stream, port: port, source: source, destination: destination, rest: rest)
          case .close(let reason):
            self.logger.debug("connection closed", metadata: ["remote": "\(stream.peerIP() ?? "-")", "reason": "\(reason)"])
            self.budget.release()
            stream.close()
          }
        }
        return
      }
    }
    serve(stream, port: port, table: table)
  }

  /// Starts TLS when the port speaks it, then HTTP. `source`/`destination`: the addresses a PROXY header
  /// gave the connection; `rest`: bytes already read after it.
  private func serve(
    _ stream: TCPStream, port: Int, table: RouteTable? = nil, source: ProxyEndpoint? = nil,
    destination: ProxyEndpoint? = nil, rest: [UInt8] = []
  ) {
    if draining {
      budget.release()
      return stream.close()
    }
    let table = table ?? routes
    if let listener = table.listeners[port], listener.secure {
      guard let context = listener.tls, let tls = table.tls else {
        logger.error("TLS listener without a TLS set-up; closing the connection", metadata: ["port": "\(port)"])
        budget.release()
        return stream.close()
      }
      do {
        let layer = try TLSServerLayer.attach(
          to: stream, context: context, source: tls.source, lookupTimeoutMilliseconds: tls.lookupTimeoutMilliseconds,
          plaintext: tlsPlaintext)
        // Only at debug level: a closure per connection otherwise made for nothing.
        if logger.logLevel <= .debug {
          let logger = self.logger
          let remote = source?.ip
          layer.onFailure = { [unowned stream] failure in
            logger.debug("TLS failed", metadata: ["remote": "\(remote ?? stream.peerIP() ?? "-")", "error": "\(failure)"])
          }
        }
      } catch {
        logger.error("cannot start TLS", metadata: ["error": "\(error)"])
        budget.release()
        return stream.close()
      }
    }
    let connection = HTTPConnection(worker: self, client: stream, port: port, source: source, destination: destination)
    connections[ObjectIdentifier(connection)] = connection
    connection.assumeIsolated { $0.startWaiting() }
    live.add(1, ordering: .relaxed)
    Self.accepted.increment()
    Self.openConnections.increment()
    if !rest.isEmpty {
      // What came with the PROXY header is the connection's first input (TLS records, or HTTP).
      rest.withUnsafeBytes { bytes in
        if let security = stream.security {
          security.streamReceived(stream, bytes)
        } else {
          nonisolated(unsafe) let bytes = bytes
          connection.assumeIsolated { $0.clientDidRead(bytes) }
        }
      }
    }
  }

  func connection(_ id: ObjectIdentifier) -> HTTPConnection? { connections[id] }

  var connectionCount: Int { connections.count }

  func connectionDidClose(_ connection: HTTPConnection) {
    if connections.removeValue(forKey: ObjectIdentifier(connection)) != nil {
      live.subtract(1, ordering: .relaxed)
      budget.release()
      Self.openConnections.decrement()
    }
  }

  /// A connection that switched protocols (it then leaves `connections` through `connectionDidClose`)
  /// is counted as a tunnel from here on.
  func adopt(_ tunnel: Tunnel) {
    tunnels[ObjectIdentifier(tunnel)] = tunnel
    live.add(1, ordering: .relaxed)
    budget.claimReplacing()  // the connection it came from gives its slot back as it leaves `connections`
    Self.openTunnels.increment()
    Self.tunnelsOpened.increment()
  }

  /// A connection that began HTTP/2 (it then leaves `connections`) is counted as a session from here on.
  func adopt(_ session: HTTP2Session) {
    sessions[ObjectIdentifier(session)] = session
    live.add(1, ordering: .relaxed)
    budget.claimReplacing()
    Self.openConnections.increment()
  }

  func sessionDidClose(_ session: HTTP2Session) {
    if sessions.removeValue(forKey: ObjectIdentifier(session)) != nil {
      live.subtract(1, ordering: .relaxed)
      budget.release()
      Self.openConnections.decrement()
    }
  }

  /// After a reload: an HTTP/2 connection keeps serving (each new stream reads the new table) unless its
  /// listener is gone or no longer serves its version of HTTP/2; those get GOAWAY and finish their streams.
  public func reloadedHTTP2(closedPorts: [Int]) {
    loop.checkIsolated()
    let protocols = routes.config.global.servers.protocols
    for session in Array(sessions.values)
    where closedPorts.contains(session.port) || !protocols.contains(session.isSecure ? "h2" : "h2c") {
      session.drain()
    }
  }

  func tunnelDidClose(_ id: ObjectIdentifier) {
    if tunnels.removeValue(forKey: id) != nil {
      live.subtract(1, ordering: .relaxed)
      budget.release()
      Self.openTunnels.decrement()
    }
  }

  /// Writes the access lines this worker holds. On the loop.
  public func flushAccessLog() {
    loop.checkIsolated()
    accessLog.flush()
  }

  /// Graceful shutdown, step 1: stop accepting, close idle keep-alive connections, and let every request
  /// under way finish with `Connection: close`. Tunnels go on until `closeEverything`.
  public func beginDrain() {
    loop.checkIsolated()
    draining = true
    for listener in listeners.values.joined() { listener.close() }
    listeners.removeAll()
    for connection in Array(connections.values) {
      connection.assumeIsolated { $0.drain() }
    }
    for session in Array(sessions.values) { session.drain() }
    pool.closeAll()
    accessLog.flush()
  }

  /// Graceful shutdown, step 2 (grace period over): close whatever is left.
  public func closeEverything() {
    loop.checkIsolated()
    for connection in Array(connections.values) {
      connection.assumeIsolated { $0.abort() }
    }
    for tunnel in Array(tunnels.values) {
      tunnel.assumeIsolated { $0.close() }
    }
    for session in Array(sessions.values) { session.close() }
    pool.closeAll()
    accessLog.flush()
  }
}
