import EdgeCore
import EdgeLoop

/// TLS under an outgoing `TCPStream`: the client side of one connection, on the stream's loop.
///
/// `attach` sends the ClientHello at once; the server's records are fed to the session as they arrive,
/// handshake records go back raw, and decrypted bytes reach the stream's owner as if they had come from
/// the socket. What the owner writes before the handshake completes waits in the stream and goes out,
/// sealed, the moment it does. A failed handshake (a certificate that does not verify, a refused client
/// certificate) reaches `onFailure` with OpenSSL's reason, then the owner as `streamDidFail`.
///
/// The layer sets no deadline of its own: the owner bounds connect plus handshake as it sees fit.
public final class TLSClientLayer: StreamSecurity {
  public let session: TLSClientSession
  /// Decrypted bytes on their way to the owner (emptied after each delivery).
  let plaintext: ByteBuffer
  /// Told why the connection failed, before the owner hears of it.
  public var onFailure: ((TLSFailure) -> Void)?
  /// Told once the handshake completed (the negotiated version, ALPN protocol, …).
  public var onEstablished: ((TLSHandshake) -> Void)?
  private var closeSealed = false

  init(session: TLSClientSession, plaintext: ByteBuffer) {
    self.session = session
    self.plaintext = plaintext
  }

  /// Puts a new layer under `stream` (connected, not yet reading) and sends the ClientHello; `serverName`
  /// is what the certificate must name (host name or IP address). The owner sets its delegate and starts
  /// reading; it may write at once.
  public static func attach(
    to stream: TCPStream, context: TLSClientContext, serverName: String, plaintext: ByteBuffer = ByteBuffer(),
    resumptionKey: String? = nil
  ) throws(OpenSSLError) -> TLSClientLayer {
    let session = try TLSClientSession(context: context, serverName: serverName, resumptionKey: resumptionKey)
    let layer = TLSClientLayer(session: session, plaintext: plaintext)
    stream.security = layer
    layer.session.takeOutput { stream.writeRaw($0) }
    return layer
  }

  // MARK: StreamSecurity

  public var isEstablished: Bool { session.canWrite }

  public func streamReceived(_ stream: TCPStream, _ ciphertext: UnsafeRawBufferPointer) {
    session.feed(ciphertext)
    while !stream.isClosed {
      let event = session.advance(into: plaintext)
      session.takeOutput { stream.writeRaw($0) }
      switch event {
      case .needMoreInput, .waitingForCertificate:
        return
      case .handshakeComplete(let info):
        onEstablished?(info)
        // Anything the owner wrote during the handshake goes out now.
        stream.flush()
      case .plaintext:
        stream.deliver(plaintext.readable)
        plaintext.removeAll()
      case .closed:
        return stream.deliverEOF()
      case .failed(let failure):
        onFailure?(failure)
        return stream.deliverFailure(.securityFailure)
      }
    }
  }

  public func seal(_ plaintext: UnsafeRawBufferPointer, send: (UnsafeRawBufferPointer) -> Void) -> Bool {
    do {
      try session.write(plaintext: plaintext)
    } catch {
      onFailure?(error)
      return false
    }
    session.takeOutput(send)
    return true
  }

  public func sealClose(send: (UnsafeRawBufferPointer) -> Void) {
    guard !closeSealed else { return }
    closeSealed = true
    session.shutdown()
    session.takeOutput(send)
  }

  public func streamClosed(_ stream: TCPStream) {}
}

// A layer belongs to one stream on one loop.
@available(*, unavailable) extension TLSClientLayer: Sendable {}
