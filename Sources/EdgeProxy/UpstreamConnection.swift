import EdgeLoop

/// A connection to one upstream, owned by the exchange using it or parked idle in an `UpstreamPool`.
public final class UpstreamConnection {
  public let key: String
  public let stream: TCPStream
  /// True when it came from the idle pool: a failure before any response byte may be the upstream having
  /// closed it while idle, so the request may be retried on a new connection.
  public internal(set) var reused = false
  var idleTimer: LoopTimer?

  init(key: String, stream: TCPStream) {
    self.key = key
    self.stream = stream
  }
}

// Invariant: used only on the loop of the pool that dialled it.
extension UpstreamConnection: @unchecked Sendable {}
