import EdgeConfig
import EdgeLoop
import EdgeProxy

/// Reads the PROXY header a load balancer writes first on a connection, before TLS or HTTP see a byte
/// (`listener_wrappers { proxy_protocol }`), and decides by the peer's policy whether the connection is
/// served, and as whose.
final class ProxyHeaderReader: TCPStreamDelegate {
  enum Outcome {
    /// Serve the connection: as `source`/`destination` when the header's addresses are used (nil: the
    /// socket's own), with `rest` — the bytes after the header — as its first input.
    case serve(source: ProxyEndpoint?, destination: ProxyEndpoint?, rest: [UInt8])
    /// Close it, for this reason (logged at debug).
    case close(String)
  }

  private let stream: TCPStream
  private let policy: ProxyProtocolListener.Policy
  private var done: ((Outcome) -> Void)?
  private var received: [UInt8] = []
  private let timer: LoopTimer

  private init(_ stream: TCPStream, _ policy: ProxyProtocolListener.Policy, _ done: @escaping (Outcome) -> Void) {
    self.stream = stream
    self.policy = policy
    self.done = done
    timer = LoopTimer(loop: stream.loop)
  }

  /// Starts reading `stream` (accepted, nothing read yet); `done` runs once, with reading stopped.
  static func start(
    _ stream: TCPStream, policy: ProxyProtocolListener.Policy, timeoutMilliseconds: UInt64,
    _ done: @escaping (Outcome) -> Void
  ) {
    let reader = ProxyHeaderReader(stream, policy, done)
    stream.delegate = reader
    reader.timer.start(after: timeoutMilliseconds) { [unowned reader] in
      reader.finish(.close("no PROXY header, nor other bytes, within \(timeoutMilliseconds) ms"))
    }
    stream.startReading()
  }

  private func finish(_ outcome: Outcome) {
    guard let done else { return }
    self.done = nil
    timer.close()
    stream.stopReading()
    if stream.delegate === self { stream.delegate = nil }
    done(outcome)
  }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    received.append(contentsOf: bytes)
    if let outcome = Self.decide(received, policy) { finish(outcome) }
  }

  /// What `received` so far means under `policy`; nil: wait for more bytes.
  static func decide(_ received: [UInt8], _ policy: ProxyProtocolListener.Policy) -> Outcome? {
    switch ProxyHeaderParser.parse(received) {
    case .needMoreBytes:
      return nil
    case .notProxy:
      if policy == .require { return .close("no PROXY header from a peer that must send one") }
      return .serve(source: nil, destination: nil, rest: received)
    case .invalid(let reason):
      return .close("malformed PROXY header: \(reason)")
    case .complete(let header, let consumed):
      let rest = Array(received[consumed...])
      switch (policy, header) {
      case (.reject, _):
        return .close("PROXY header from a peer not allowed to send one")
      case (.use, .proxied(let source, let destination)), (.require, .proxied(let source, let destination)):
        return .serve(source: source, destination: destination, rest: rest)
      default:
        // `ignore`, or LOCAL/UNKNOWN: the header is dropped and the peer's own addresses stand.
        return .serve(source: nil, destination: nil, rest: rest)
      }
    }
  }

  func streamDidReachEOF(_ stream: TCPStream) { finish(.close("closed before the PROXY header was complete")) }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) { finish(.close("\(error) while reading the PROXY header")) }
  func streamDidDrain(_ stream: TCPStream) {}
}

@available(*, unavailable) extension ProxyHeaderReader: Sendable {}
