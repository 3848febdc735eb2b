internal import COpenSSL

/// One session's part of telemetry: the ClientHello bytes captured as they are fed (up to
/// `ClientHelloParser.maxCaptureLength`), and whether the outcome was reported. Exists only when
/// telemetry is on; a session without it pays one nil check per `feed`.
final class HandshakeTelemetry {
  let sink: any TLSTelemetrySink
  /// Still collecting the ClientHello.
  private(set) var capturing = true
  private var captured: [UInt8] = []
  private var reported = false

  init(sink: any TLSTelemetrySink) { self.sink = sink }

  func capture(_ bytes: UnsafeRawBufferPointer) {
    let room = ClientHelloParser.maxCaptureLength - captured.count
    captured.append(contentsOf: bytes.prefix(room))
    switch ClientHelloParser.parse(captured) {
    case .incomplete:
      if captured.count >= ClientHelloParser.maxCaptureLength { finishCapture(nil) }
    case .invalid: finishCapture(nil)
    case .hello(let hello): finishCapture(hello)
    }
  }

  private func finishCapture(_ hello: ClientHello?) {
    capturing = false
    captured = []
    sink.offered(hello)
  }

  func completed(_ negotiation: TLSNegotiation) {
    guard !reported else { return }
    reported = true
    if capturing { finishCapture(nil) }
    sink.negotiated(negotiation)
  }

  func failed(_ failure: TLSHandshakeFailureKind) {
    guard !reported else { return }
    reported = true
    if capturing { finishCapture(nil) }
    sink.failed(failure)
  }

  /// The session is going away: a handshake that started (bytes came) and never ended was abandoned.
  func sessionEnded() {
    guard !reported, !(capturing && captured.isEmpty) else { return }
    failed(.closed)
  }
}

extension TLSSession {
  /// What the handshake agreed on, for telemetry (TLSHandshake's cipher is OpenSSL's name; this is IANA's).
  func negotiation() -> TLSNegotiation {
    var alpn: UnsafePointer<UInt8>?
    var alpnLength: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
    let applicationProtocol = alpn.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) }
    let cipher = SSL_get_current_cipher(ssl).map { TLSNames.cipher(UInt16(truncatingIfNeeded: SSL_CIPHER_get_protocol_id($0))) }
    let group = SSL_ctrl(ssl, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, nil)
    let groupName = group > 0 ? SSL_group_to_name(ssl, Int32(truncatingIfNeeded: group)).map { String(cString: $0) } : nil
    return TLSNegotiation(
      version: TLSNames.version(UInt16(truncatingIfNeeded: SSL_version(ssl))), cipher: cipher ?? "none",
      applicationProtocol: applicationProtocol, group: groupName, resumed: SSL_session_reused(ssl) == 1)
  }

  /// Why the handshake failed, by alert: the one edge sent, else the one the client sent.
  var failureKind: TLSHandshakeFailureKind {
    if let sentAlert { return .sentAlert(sentAlert) }
    if let receivedAlert { return .receivedAlert(receivedAlert) }
    return .noAlert
  }
}
