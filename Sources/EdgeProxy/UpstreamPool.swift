import EdgeCore
import EdgeLoop

/// Keep-alive connections to upstreams, per worker loop (never shared between threads).
///
/// An idle connection keeps reading: data or EOF from an idle upstream means it is unusable, and it is
/// closed at once rather than handed to the next request.
public final class UpstreamPool {
  public let loop: EventLoop
  public let resolver: Resolver
  private var idle: [PoolKey: [UpstreamConnection]] = [:]
  /// `max_conns_per_host` counts, by upstream (`PoolKey.group`); only for upstreams with a limit.
  private var limited: [String: HostSlots] = [:]
  /// Where TLS layers of this loop's upstream connections put decrypted bytes (emptied after each use).
  private let tlsPlaintext = ByteBuffer(capacity: 16 * 1024)

  public init(loop: EventLoop, resolver: Resolver) {
    self.loop = loop
    self.resolver = resolver
  }

  /// An idle connection pooled under `key`, if one is parked. It is still reading (so the caller's
  /// delegate hears the response without another epoll change).
  public func takeIdle(key: PoolKey) -> UpstreamConnection? {
    defer { if key.perClient, idle[key]?.isEmpty == true { idle[key] = nil } }
    while let conn = idle[key]?.popLast() {
      conn.idleTimer?.stop()
      conn.stream.delegate = nil
      guard !conn.stream.isClosed else { continue }
      conn.reused = true
      return conn
    }
    return nil
  }

  /// A new connection as `request` describes it: resolved, connected, its PROXY header written and its
  /// TLS handshake done. With a `limit` (`max_conns_per_host`) the connection takes a place among the
  /// upstream's; when none is free the request waits, first come first served, for a connection to be
  /// released (handed over idle) or to close (a new one is dialled), until `request`'s timeout. The
  /// returned waiter is non-nil when the request waits: cancel it if the request goes away first.
  public func connect(
    _ request: UpstreamDial, limit: Int?, _ done: @escaping (Result<UpstreamConnection, UpstreamDialError>) -> Void
  ) -> PoolWaiter? {
    guard let limit else {
      open(request, done)
      return nil
    }
    let slots = slots(for: request.key.group, limit: limit)
    if slots.hasRoom, slots.firstWaiting == nil {
      slots.open += 1
      open(request, counting: slots, done)
      return nil
    }
    let waiter = PoolWaiter(request: request, deadline: loop.now + request.timeoutMilliseconds, loop: loop, done: done)
    waiter.arm(after: request.timeoutMilliseconds, limit: limit)
    slots.append(waiter)
    // Parked connections of other clients (PROXY headers) hold places nobody else can use: one gives way.
    if !slots.hasRoom { _ = closeOneIdle(group: request.key.group, except: request.key) }
    slots.wakeSoon()
    return waiter
  }

  private func slots(for group: String, limit: Int) -> HostSlots {
    if let slots = limited[group], slots.limit == limit { return slots }
    // A reload that changed the limit starts a new count; connections already open keep the old one.
    let slots = HostSlots(limit: limit, loop: loop) { [unowned self] in self.serve($0) }
    limited[group] = slots
    return slots
  }

  /// Gives waiters what came free: an idle connection, else a place to dial in.
  private func serve(_ slots: HostSlots) {
    while let waiter = slots.firstWaiting {
      if let conn = takeIdle(key: waiter.request.key) {
        slots.removeFirst()
        waiter.finish(.success(conn))
      } else if slots.hasRoom {
        slots.removeFirst()
        slots.open += 1
        var request = waiter.request
        let now = loop.now
        request.timeoutMilliseconds = waiter.deadline > now ? waiter.deadline - now : 1
        open(request, counting: slots) { waiter.finish($0) }
      } else if !closeOneIdle(group: waiter.request.key.group, except: waiter.request.key) {
        return
      }
    }
  }

  /// Closes the oldest connection parked under another key of `group`; false when there is none.
  private func closeOneIdle(group: String, except key: PoolKey) -> Bool {
    for (other, list) in idle where other.group == group && other != key && !list.isEmpty {
      discard(list[0])
      return true
    }
    return false
  }

  private func open(
    _ request: UpstreamDial, counting slots: HostSlots? = nil,
    _ done: @escaping (Result<UpstreamConnection, UpstreamDialError>) -> Void
  ) {
    let loop = self.loop
    let plaintext = tlsPlaintext
    let finish: (Result<UpstreamConnection, UpstreamDialError>) -> Void = { result in
      switch result {
      case .success(let conn): conn.slots = slots
      case .failure: slots?.give()
      }
      done(result)
    }
    resolver.resolve(host: request.host, port: request.port) { result in
      switch result {
      case .failure(let error): finish(.failure(UpstreamDialError(.resolve, error)))
      case .success(let addresses):
        TCPStream.connect(on: loop, to: addresses[0], timeoutMilliseconds: request.timeoutMilliseconds) { result in
          switch result {
          case .failure(let error): finish(.failure(UpstreamDialError(.connect, error)))
          case .success(let stream):
            let conn = UpstreamConnection(key: request.key, stream: stream)
            if let header = request.proxyHeader {
              // Before TLS, straight to the socket; without TLS the request head joins it in one write.
              if request.tls != nil { header.withUnsafeBytes { stream.writeRaw($0) } } else { stream.write(header) }
            }
            guard let tls = request.tls else { return finish(.success(conn)) }
            // The place is the connection's from the start: a failed handshake closes it, giving it back.
            conn.slots = slots
            UpstreamHandshake.start(conn, tls, plaintext: plaintext, done)
          }
        }
      }
    }
  }

  /// Parks a connection whose last exchange ended cleanly, for at most `keepAliveMilliseconds`.
  public func release(_ conn: UpstreamConnection, keepAliveMilliseconds: UInt64, maxIdle: Int) {
    guard !conn.stream.isClosed, conn.stream.queuedBytes == 0 else { return conn.close() }
    guard idle[conn.key, default: []].count < maxIdle else { return conn.close() }
    if conn.idleWatcher == nil {
      conn.idleWatcher = IdleWatcher(pool: self, conn: conn)
      let timer = LoopTimer(loop: loop)
      timer.setHandler { [weak self, unowned conn] in self?.discard(conn) }
      conn.idleTimer = timer
    }
    conn.stream.delegate = conn.idleWatcher
    conn.stream.startReading()
    conn.idleTimer!.start(after: keepAliveMilliseconds)
    idle[conn.key, default: []].append(conn)  // in place: no copy of the list
    // A request waiting for a place under max_conns_per_host gets it.
    conn.slots?.wakeSoon()
  }

  func discard(_ conn: UpstreamConnection) {
    if let i = idle[conn.key]?.firstIndex(where: { $0 === conn }) {
      idle[conn.key]!.remove(at: i)
      if conn.key.perClient, idle[conn.key]!.isEmpty { idle[conn.key] = nil }
    }
    conn.close()
  }

  /// Closes the connections parked under `key` (a client connection whose PROXY-header connections
  /// can serve nobody else has closed).
  public func closeIdle(key: PoolKey) {
    guard let list = idle.removeValue(forKey: key) else { return }
    for conn in list { conn.close() }
  }

  /// Closes every idle connection (shutdown).
  public func closeAll() {
    let all = idle.values.joined()
    idle.removeAll()
    for conn in all { conn.close() }
  }
}

/// The delegate of a parked connection: anything it hears makes the connection unusable.
private final class IdleWatcher: TCPStreamDelegate {
  unowned let pool: UpstreamPool
  unowned let conn: UpstreamConnection
  init(pool: UpstreamPool, conn: UpstreamConnection) {
    self.pool = pool
    self.conn = conn
  }
  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) { pool.discard(conn) }
  func streamDidReachEOF(_ stream: TCPStream) { pool.discard(conn) }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) { pool.discard(conn) }
  func streamDidDrain(_ stream: TCPStream) {}
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
