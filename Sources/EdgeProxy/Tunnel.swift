import EdgeCore
import EdgeLoop

/// Bytes both ways between a client and an upstream after `101 Switching Protocols` (or any protocol
/// switch): back-pressure in each direction, half-close passed through, an idle timeout and an optional
/// lifetime. It owns both sockets and outlives the configuration and the connection that started it.
public actor Tunnel {
  public nonisolated let loop: EventLoop
  public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

  private let client: TCPStream
  private let upstream: TCPStream
  private let idleTimeout: UInt64?
  private let timer: LoopTimer
  private var lastActivity: UInt64
  private var deadline: UInt64?
  private var clientDone = false
  private var upstreamDone = false
  private var closed = false
  private var onClose: (@Sendable (ObjectIdentifier) -> Void)?

  /// Starts relaying. `clientPending` / `upstreamPending` are bytes each side sent that were read before
  /// the switch (they are forwarded first).
  public init(
    loop: EventLoop, client: TCPStream, upstream: TCPStream, clientPending: ByteBuffer,
    upstreamPending: ByteBuffer, idleTimeout: Duration?, lifetime: Duration?,
    onClose: @escaping @Sendable (ObjectIdentifier) -> Void
  ) {
    self.loop = loop
    self.client = client
    self.upstream = upstream
    let idle = idleTimeout?.milliseconds
    let timer = LoopTimer(loop: loop)
    self.idleTimeout = idle
    self.timer = timer
    self.lastActivity = loop.now
    self.deadline = lifetime.map { loop.now + $0.milliseconds }
    self.onClose = onClose
    let relay = Relay(self)
    client.delegate = relay
    upstream.delegate = relay
    if !clientPending.isEmpty { upstream.write(clientPending.readable) }
    if !upstreamPending.isEmpty { client.write(upstreamPending.readable) }
    client.startReading()
    upstream.startReading()
    if let wait = [idle, lifetime?.milliseconds].compactMap({ $0 }).min() {
      timer.start(after: wait) { [weak self] in self?.assumeIsolated { $0.checkTimeouts() } }
    }
  }

  /// Closes both sides now (shutdown grace period over).
  public func close() {
    guard !closed else { return }
    closed = true
    timer.close()
    client.close { [self] in sideClosed() }
    upstream.close { [self] in sideClosed() }
  }

  private var sidesOpen = 2
  /// `onClose` runs when both sockets are released, not merely asked to close.
  private nonisolated func sideClosed() {
    assumeIsolated { tunnel in
      tunnel.sidesOpen -= 1
      if tunnel.sidesOpen == 0 {
        let done = tunnel.onClose
        tunnel.onClose = nil
        done?(ObjectIdentifier(tunnel))
      }
    }
  }

  private func peer(of stream: TCPStream) -> TCPStream { stream === client ? upstream : client }

  fileprivate func didRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    lastActivity = loop.now
    let other = peer(of: stream)
    other.writeNow(bytes)
    if !other.isWritable { stream.stopReading() }
  }

  fileprivate func didDrain(_ stream: TCPStream) {
    let source = peer(of: stream)
    let sourceDone = source === client ? clientDone : upstreamDone
    if !sourceDone { source.startReading() }
  }

  /// One side finished sending: pass the half-close on; when both are done, close.
  fileprivate func didReachEOF(_ stream: TCPStream) {
    if stream === client { clientDone = true } else { upstreamDone = true }
    if clientDone && upstreamDone {
      finish()
    } else {
      peer(of: stream).shutdownWrite()
    }
  }

  fileprivate func didFail(_ stream: TCPStream) {
    // The other side gets what was already queued, then FIN.
    guard !closed else { return }
    closed = true
    timer.close()
    stream.close { [self] in sideClosed() }
    peer(of: stream).closeAfterFlush { [self] in sideClosed() }
  }

  /// Both directions are done: flush and close both sockets.
  private func finish() {
    guard !closed else { return }
    closed = true
    timer.close()
    client.closeAfterFlush { [self] in sideClosed() }
    upstream.closeAfterFlush { [self] in sideClosed() }
  }

  private func checkTimeouts() {
    guard !closed else { return }
    let now = loop.now
    if let deadline, now >= deadline { return close() }
    var next = deadline.map { $0 - now }
    if let idle = idleTimeout {
      if now - lastActivity >= idle { return close() }
      let left = idle - (now - lastActivity)
      next = min(next ?? left, left)
    }
    if let next { timer.start(after: max(next, 1)) { [weak self] in self?.assumeIsolated { $0.checkTimeouts() } } }
  }
}

/// Forwards stream events into the tunnel's isolation: the streams' callbacks run on the tunnel's loop.
private final class Relay: TCPStreamDelegate {
  // Strong: the streams keep the relay alive, and the relay keeps the tunnel alive, until both close.
  let tunnel: Tunnel
  init(_ tunnel: Tunnel) { self.tunnel = tunnel }
  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    nonisolated(unsafe) let bytes = bytes
    tunnel.assumeIsolated { $0.didRead(stream, bytes) }
  }
  func streamDidReachEOF(_ stream: TCPStream) {
    tunnel.assumeIsolated { $0.didReachEOF(stream) }
  }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    tunnel.assumeIsolated { $0.didFail(stream) }
  }
  func streamDidDrain(_ stream: TCPStream) {
    tunnel.assumeIsolated { $0.didDrain(stream) }
  }
}
