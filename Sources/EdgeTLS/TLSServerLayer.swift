import EdgeCore
import EdgeLoop
import EdgeMetrics

/// TLS under a `TCPStream`: the server side of one connection, on the stream's loop.
///
/// Socket bytes are fed to the session; handshake records go back raw; decrypted bytes go to the
/// stream's owner as if they had come from the socket. When the client names a certificate the cache does
/// not hold, the layer stops reading, asks the certificate source (off the loop), and resumes the
/// handshake on the loop when it answers — or refuses it with internal_error when the answer takes longer
/// than the lookup timeout.
public final class TLSServerLayer: StreamSecurity {
  public let session: TLSSession
  let source: any CertificateSource
  let lookupTimeout: UInt64
  /// Decrypted bytes on their way to the owner; shared by every layer on a loop (emptied after each use).
  let plaintext: ByteBuffer
  /// Told why the connection failed (handshake refused, bad record), before the owner hears of it.
  public var onFailure: ((TLSFailure) -> Void)?
  private var lookupTimer: LoopTimer?
  private var waiting = false
  private var closeSealed = false
  private var firstBytes = true

  public init(
    context: TLSContext, source: any CertificateSource, lookupTimeoutMilliseconds: UInt64, plaintext: ByteBuffer
  ) throws(OpenSSLError) {
    session = try TLSSession(context: context)
    self.source = source
    self.lookupTimeout = lookupTimeoutMilliseconds
    self.plaintext = plaintext
  }

  /// Puts a new layer under `stream` (before it starts reading).
  public static func attach(
    to stream: TCPStream, context: TLSContext, source: any CertificateSource, lookupTimeoutMilliseconds: UInt64,
    plaintext: ByteBuffer
  ) throws(OpenSSLError) -> TLSServerLayer {
    let layer = try TLSServerLayer(
      context: context, source: source, lookupTimeoutMilliseconds: lookupTimeoutMilliseconds, plaintext: plaintext)
    layer.session.addressName = { [unowned stream] in stream.localIP() }
    stream.security = layer
    return layer
  }

  // MARK: StreamSecurity

  public var isEstablished: Bool { session.canWrite }

  public func streamReceived(_ stream: TCPStream, _ ciphertext: UnsafeRawBufferPointer) {
    if firstBytes {
      firstBytes = false
      // A TLS connection opens with a handshake record (0x16); a capital letter is an HTTP method.
      if let first = ciphertext.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
        return refusePlainHTTP(stream)
      }
    }
    session.feed(ciphertext)
    if !waiting { drive(stream) }
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

  public func streamClosed(_ stream: TCPStream) {
    lookupTimer?.close()
    lookupTimer = nil
    waiting = false
  }

  // MARK: Driving the session

  /// Advances the session until it needs more input, handing plaintext to the owner as it comes.
  private func drive(_ stream: TCPStream) {
    while !stream.isClosed {
      let event = session.advance(into: plaintext)
      session.takeOutput { stream.writeRaw($0) }
      switch event {
      case .needMoreInput:
        return
      case .waitingForCertificate(let name):
        return lookUp(name, stream)
      case .handshakeComplete(let info):
        HandshakeMeter.completed(
          version: info.version.description, cipher: info.cipher, alpn: info.applicationProtocol, resumed: info.resumed)
        if session.isACMEValidation {
          // A TLS-ALPN-01 validation needs the handshake only: end it politely, no HTTP follows.
          session.shutdown()
          session.takeOutput { stream.writeRaw($0) }
          onFailure?(TLSFailure(reason: "ACME TLS-ALPN-01 validation answered", alert: nil))
          return stream.deliverFailure(.securityFailure)
        }
        // Anything the owner wrote during the handshake goes out now.
        stream.flush()
      case .plaintext:
        stream.deliver(plaintext.readable)
        plaintext.removeAll()
      case .closed:
        return stream.deliverEOF()
      case .failed(let failure):
        HandshakeMeter.failed(alert: failure.alert, name: TLSNames.alertName(failure.alert ?? 0))
        onFailure?(failure)
        return stream.deliverFailure(.securityFailure)
      }
    }
  }

  /// Plain HTTP sent to the TLS port: say so in plain HTTP (as nginx and Caddy do), then close.
  private func refusePlainHTTP(_ stream: TCPStream) {
    let body = "This port speaks HTTPS; send the request with https://.\n"
    let response =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
      + "Connection: close\r\n\r\n" + body
    Array(response.utf8).withUnsafeBytes { stream.writeRaw($0) }
    HandshakeMeter.failed(alert: nil, name: "none")
    onFailure?(TLSFailure(reason: "plain HTTP request on a TLS port", alert: nil))
    // The owner closes the stream; the answer is already with the kernel (a short write to a fresh socket).
    stream.deliverFailure(.securityFailure)
  }

  private func lookUp(_ name: String, _ stream: TCPStream) {
    waiting = true
    stream.stopReading()
    let loop = stream.loop
    let timer = LoopTimer(loop: loop)
    lookupTimer = timer
    let seconds = Double(lookupTimeout) / 1000
    timer.start(after: lookupTimeout) { [weak self, weak stream] in
      guard let self, let stream else { return }
      self.answered(stream) { $0.refuseCertificate(reason: "no certificate for \(name) within \(seconds)s") }
    }
    let handle = LayerHandle(self, stream)
    let answer: @Sendable (CertifiedKey?) -> Void = { key in
      loop.execute {
        guard let layer = handle.layer, let stream = handle.stream else { return }
        layer.answered(stream) { session in
          // A validation nobody here or in shared storage answers gets no certificate at all.
          if key == nil && session.isACMEValidation { session.refuseCertificate(reason: "no ACME challenge for \(name)") }
          session.provideCertificate(key)
        }
      }
    }
    if session.isACMEValidation, let challenges = session.context.configuration.challenges {
      challenges.askShared(name, answer)
    } else {
      source.certificate(for: name, answer)
    }
  }

  /// The lookup answered, or timed out (whichever comes first; the other is ignored).
  private func answered(_ stream: TCPStream, _ resume: (TLSSession) -> Void) {
    guard waiting, !stream.isClosed else { return }
    waiting = false
    lookupTimer?.close()
    lookupTimer = nil
    resume(session)
    stream.startReading()
    drive(stream)
  }
}

/// Weak references to a layer and its stream for a lookup's completion, which runs on the stream's loop
/// (it is only dereferenced there).
private final class LayerHandle: @unchecked Sendable {
  weak var layer: TLSServerLayer?
  weak var stream: TCPStream?
  init(_ layer: TLSServerLayer, _ stream: TCPStream) {
    self.layer = layer
    self.stream = stream
  }
}
