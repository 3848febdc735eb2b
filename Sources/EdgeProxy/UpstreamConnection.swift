import EdgeLoop

/// A connection to one upstream, owned by the exchange using it or parked idle in an `UpstreamPool`.
public final class UpstreamConnection {
  public let key: PoolKey
  public let stream: TCPStream
  /// True when it came from the idle pool: a failure before any response byte may be the upstream having
  /// closed it while idle, so the request may be retried on a new connection.
  public internal(set) var reused = false
  /// Made at the first parking and kept for the connection's life, so parking allocates nothing.
  var idleTimer: LoopTimer?
  var idleWatcher: (any TCPStreamDelegate)?
  /// The `max_conns_per_host` count this connection holds a place in (nil without a limit); given back
  /// once, when the connection closes or leaves for a tunnel.
  var slots: HostSlots?

  init(key: PoolKey, stream: TCPStream) {
    self.key = key
    self.stream = stream
  }

  /// A connection dropped without `close()` still gives its place back.
  deinit { slots?.give() }

  /// Closes the socket and releases what parking it made.
  public func close() {
    releaseParkingState()
    stream.close()
    giveSlotBack()
  }

  /// Hands the socket to another owner (a tunnel): the pool's timer and watcher go away, and the
  /// connection no longer counts against `max_conns_per_host`.
  public func detach() -> TCPStream {
    releaseParkingState()
    giveSlotBack()
    return stream
  }

  func releaseParkingState() {
    idleTimer?.close()
    idleTimer = nil
    idleWatcher = nil
  }

  private func giveSlotBack() {
    let held = slots
    slots = nil
    held?.give()
  }
}

// Invariant: used only on the loop of the pool that dialled it.
extension UpstreamConnection: @unchecked Sendable {}
