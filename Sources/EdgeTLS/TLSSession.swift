internal import COpenSSL
import EdgeCore

/// One server-side TLS connection over memory BIOs, driven from its loop's read callback:
///
/// ```
/// streamDidRead(bytes):  session.feed(bytes)
///                        loop { switch session.advance(into: inbound) { … } }  // until needMoreInput, …
///                        session.takeOutput { stream.write($0) }
/// ```
///
/// Sockets never touch OpenSSL: ciphertext goes in with `feed`, out with `takeOutput`. Not thread-safe;
/// everything happens on the loop that owns the connection.
public final class TLSSession {
  public let context: TLSContext
  let ssl: OpaquePointer
  /// Ciphertext from the client (owned by `ssl`).
  let readBIO: OpaquePointer
  /// Ciphertext for the client (owned by `ssl`).
  let writeBIO: OpaquePointer

  enum Phase {
    case handshaking
    /// The client-hello callback returned RETRY; `provideCertificate` resumes.
    case waitingForCertificate
    case established
    /// The client sent close_notify; this side may still write (a response to a half-closed request).
    case peerClosed
    /// This side sent close_notify.
    case closed
    case failed
  }

  /// Where the choice of certificate stands; the client-hello callback runs again after a RETRY and
  /// after a HelloRetryRequest, so it must remember.
  enum CertificateChoice {
    case undecided
    case waiting
    case provided(CertifiedKey?)
    case chosen(CertifiedKey)
    /// The lookup failed or took too long: the handshake ends with internal_error.
    case refused(String)
  }

  var phase = Phase.handshaking
  var choice = CertificateChoice.undecided
  /// The SNI the client sent (lower-case), once the ClientHello has been read.
  public internal(set) var serverName: String?
  /// The local IP address the client connected to: the name looked up when it sends no SNI. Asked only
  /// then (it costs a getsockname).
  public var addressName: (() -> String?)?
  /// The last fatal alert sent (from the info callback).
  var sentAlert: UInt8?
  /// The last alert other than close_notify the client sent (from the info callback).
  var receivedAlert: UInt8?
  /// Telemetry's capture and report; nil (the usual case) when telemetry is off.
  let telemetry: HandshakeTelemetry?
  /// The alert the client-hello callback chose, with its reason.
  var refusal: String?
  /// This handshake is an ACME TLS-ALPN-01 validation: `acme-tls/1` is selected and the connection
  /// carries no application data.
  public internal(set) var isACMEValidation = false

  public init(context: TLSContext) throws(OpenSSLError) {
    guard let ssl = SSL_new(context.raw) else { throw OpenSSLError("SSL_new") }
    guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
      SSL_free(ssl)
      throw OpenSSLError("BIO_new")
    }
    // An empty read BIO means "want more", not end of file.
    BIO_ctrl(readBIO, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
    SSL_set_bio(ssl, readBIO, writeBIO)
    SSL_set_accept_state(ssl)
    self.context = context
    self.ssl = ssl
    self.readBIO = readBIO
    self.writeBIO = writeBIO
    telemetry = context.configuration.telemetry.map(HandshakeTelemetry.init)
    // Unretained on purpose: OpenSSL calls back only inside SSL_* calls made by this object's methods,
    // which keep it alive (`withExtendedLifetime`); the SSL (and the pointer) is freed in deinit.
    SSL_set_ex_data(ssl, Self.exDataIndex, Unmanaged.passUnretained(self).toOpaque())
  }

  deinit {
    // No callback may find this object while it is being destroyed.
    SSL_set_ex_data(ssl, Self.exDataIndex, nil)
    telemetry?.sessionEnded()
    SSL_free(ssl)
  }

  /// The certificate this handshake serves, once chosen.
  public var certificate: CertifiedKey? {
    if case .chosen(let key) = choice { return key }
    return nil
  }

  /// Whether the handshake has completed and data may be written.
  public var isEstablished: Bool { phase == .established }
  /// Whether application data may be written: established, or the client closed its side only.
  public var canWrite: Bool { phase == .established || phase == .peerClosed }

  // MARK: Input

  /// Queues ciphertext from the client. Always accepted (also while waiting for a certificate); a
  /// connection should stop reading its socket while `pendingInput` is large.
  public func feed(_ ciphertext: UnsafeRawBufferPointer) {
    guard ciphertext.count > 0 else { return }
    if let telemetry, telemetry.capturing { telemetry.capture(ciphertext) }
    _ = BIO_write(readBIO, ciphertext.baseAddress, Int32(ciphertext.count))
  }

  /// Ciphertext fed but not yet processed.
  public var pendingInput: Int { Int(BIO_ctrl_pending(readBIO)) }

  /// Runs the handshake, or decrypts queued records into `plaintext`, and reports what happened.
  public func advance(into plaintext: ByteBuffer) -> TLSEvent {
    switch phase {
    case .handshaking: return handshake()
    case .waitingForCertificate: return .needMoreInput
    case .established: return read(into: plaintext)
    case .peerClosed, .closed: return .closed
    case .failed: return .failed(TLSFailure(reason: "connection already failed", alert: sentAlert))
    }
  }

  /// Answers `.waitingForCertificate`: the certificate to serve, or nil for none (the default
  /// certificate then, if the cache has one, else the client gets alert 112 unrecognized_name).
  /// Call `advance` afterwards.
  public func provideCertificate(_ key: CertifiedKey?) {
    guard phase == .waitingForCertificate else { return }
    choice = .provided(key)
    phase = .handshaking
  }

  /// Answers `.waitingForCertificate` with a refusal: the lookup failed or timed out. The client gets
  /// alert 80 internal_error. Call `advance` afterwards.
  public func refuseCertificate(reason: String) {
    guard phase == .waitingForCertificate else { return }
    choice = .refused(reason)
    phase = .handshaking
  }

  private func handshake() -> TLSEvent {
    ERR_clear_error()
    let status = withExtendedLifetime(self) { SSL_do_handshake(ssl) }
    if status == 1 {
      phase = .established
      telemetry?.completed(negotiation())
      return .handshakeComplete(handshakeInfo())
    }
    switch SSL_get_error(ssl, status) {
    case SSL_ERROR_WANT_READ:
      return .needMoreInput
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
      phase = .waitingForCertificate
      return .waitingForCertificate(serverName: serverName ?? "")
    default:
      telemetry?.failed(failureKind)
      return fail()
    }
  }

  /// Reads until the input runs out or 64 KiB were decrypted (the caller gets a chance to apply
  /// back-pressure), through a stack buffer: no allocation per read.
  private func read(into plaintext: ByteBuffer) -> TLSEvent {
    let outcome = withExtendedLifetime(self) {
      MemoryBIOIO.readDecrypted(ssl, into: plaintext, chunk: Self.readChunk, limit: Self.readLimit)
    }
    switch outcome {
    case .plaintext(let count): return .plaintext(count)
    case .needMoreInput: return .needMoreInput
    case .peerClosed:
      phase = .peerClosed
      return .closed
    case .failed: return fail()
    }
  }

  static let readChunk = 16 * 1024
  static let readLimit = 64 * 1024

  private func fail() -> TLSEvent {
    phase = .failed
    let queue = OpenSSLError.drainQueue()
    let reason = refusal ?? (queue.isEmpty ? "handshake failed" : queue.joined(separator: "; "))
    return .failed(TLSFailure(reason: reason, alert: sentAlert))
  }

  private func handshakeInfo() -> TLSHandshake {
    var alpn: UnsafePointer<UInt8>?
    var alpnLength: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
    let applicationProtocol = alpn.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) }
    let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
    return TLSHandshake(
      version: TLSVersion(openSSLValue: SSL_version(ssl)) ?? .tls12, cipher: cipher,
      applicationProtocol: applicationProtocol, resumed: SSL_session_reused(ssl) == 1, serverName: serverName)
  }
}

// A session belongs to one connection on one loop.
@available(*, unavailable) extension TLSSession: Sendable {}
