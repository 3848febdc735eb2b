import EdgeCore
import EdgeLoop
import EdgeTLS

/// The TLS handshake of a new upstream connection, before anyone may use it: the connection is handed
/// over once the server's certificate verified and the handshake completed, or reported failed with
/// OpenSSL's reason (never retried here).
final class UpstreamHandshake: TCPStreamDelegate {
  private let conn: UpstreamConnection
  private var done: ((Result<UpstreamConnection, UpstreamDialError>) -> Void)?
  private let timer: LoopTimer
  private var layer: TLSClientLayer?
  /// OpenSSL's reason, heard before the stream reports the failure.
  private var reason: String?

  private init(_ conn: UpstreamConnection, _ done: @escaping (Result<UpstreamConnection, UpstreamDialError>) -> Void) {
    self.conn = conn
    self.done = done
    timer = LoopTimer(loop: conn.stream.loop)
  }

  /// Sends the ClientHello on `conn` (connected, not reading) and reports once the handshake ends.
  static func start(
    _ conn: UpstreamConnection, _ tls: UpstreamDial.TLS, plaintext: ByteBuffer,
    _ done: @escaping (Result<UpstreamConnection, UpstreamDialError>) -> Void
  ) {
    let handshake = UpstreamHandshake(conn, done)
    let stream = conn.stream
    do {
      // Sessions are resumed per upstream and TLS settings (the pool key's upstream part).
      let layer = try TLSClientLayer.attach(
        to: stream, context: tls.context, serverName: tls.serverName, plaintext: plaintext, resumptionKey: conn.key.group)
      handshake.layer = layer
      layer.onFailure = { [unowned handshake] failure in handshake.reason = failure.reason }
      layer.onEstablished = { [unowned handshake] _ in handshake.succeed() }
    } catch {
      return handshake.fail("starting TLS: \(error)")
    }
    stream.delegate = handshake
    stream.startReading()
    handshake.timer.start(after: tls.handshakeMilliseconds) { [unowned handshake] in
      handshake.fail("TLS handshake timed out after \(tls.handshakeMilliseconds) ms")
    }
  }

  private func succeed() {
    guard let done else { return }
    self.done = nil
    release()
    conn.stream.stopReading()
    done(.success(conn))
  }

  private func fail(_ why: String) {
    guard let done else { return }
    self.done = nil
    release()
    conn.close()
    done(.failure(UpstreamDialError(.tls, why)))
  }

  /// The stream forgets this watcher (the layer stays: it is the connection's TLS from now on).
  private func release() {
    timer.close()
    layer?.onFailure = nil
    layer?.onEstablished = nil
    if conn.stream.delegate === self { conn.stream.delegate = nil }
  }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    // An HTTP server says nothing before the request; bytes here would be a broken peer.
    fail("the upstream sent data before the request")
  }
  func streamDidReachEOF(_ stream: TCPStream) { fail("the upstream closed the connection during the TLS handshake") }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    fail(reason.map { "TLS handshake: \($0)" } ?? "TLS handshake: \(error)")
  }
  func streamDidDrain(_ stream: TCPStream) {}
}

@available(*, unavailable) extension UpstreamHandshake: Sendable {}
