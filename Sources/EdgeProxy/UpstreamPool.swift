import EdgeLoop

/// Keep-alive connections to upstreams, per worker loop (never shared between threads).
///
/// An idle connection keeps reading: data or EOF from an idle upstream means it is unusable, and it is
/// closed at once rather than handed to the next request.
public final class UpstreamPool {
  public let loop: EventLoop
  public let resolver: Resolver
  private var idle: [PoolKey: [UpstreamConnection]] = [:]

  public init(loop: EventLoop, resolver: Resolver) {
    self.loop = loop
    self.resolver = resolver
  }

  /// An idle connection pooled under `key`, if one is parked. It is still reading (so the caller's
  /// delegate hears the response without another epoll change).
  public func takeIdle(key: PoolKey) -> UpstreamConnection? {
    while let conn = idle[key]?.popLast() {
      conn.idleTimer?.stop()
      conn.stream.delegate = nil
      guard !conn.stream.isClosed else { continue }
      conn.reused = true
      return conn
    }
    return nil
  }

  /// A new connection to `host:port`, pooled under `key` when released.
  public func dial(
    key: PoolKey, host: String, port: Int, dialTimeoutMilliseconds: UInt64,
    _ done: @escaping (Result<UpstreamConnection, UVError>) -> Void
  ) {
    dial(key: key, host: host, port: port, timeout: dialTimeoutMilliseconds, done)
  }

  private func dial(
    key: PoolKey, host: String, port: Int, timeout: UInt64,
    _ done: @escaping (Result<UpstreamConnection, UVError>) -> Void
  ) {
    let loop = self.loop
    resolver.resolve(host: host, port: port) { result in
      switch result {
      case .failure(let error): done(.failure(error))
      case .success(let addresses):
        TCPStream.connect(on: loop, to: addresses[0], timeoutMilliseconds: timeout) { result in
          done(result.map { UpstreamConnection(key: key, stream: $0) })
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
  }

  func discard(_ conn: UpstreamConnection) {
    if let i = idle[conn.key]?.firstIndex(where: { $0 === conn }) { idle[conn.key]!.remove(at: i) }
    conn.close()
  }

  /// Closes every idle connection (shutdown).
  public func closeAll() {
    for conn in idle.values.joined() { conn.close() }
    idle.removeAll()
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
