internal import CEdgeShims
internal import COpenSSL
import EdgeCore

#if canImport(Glibc)
  import Glibc
#endif

/// One client-side TLS connection over memory BIOs, driven by its owner like `TLSSession`: ciphertext in
/// with `feed`, out with `takeOutput`, `advance` until `.needMoreInput`. Sockets never touch OpenSSL.
///
/// The ClientHello is ready in `takeOutput` as soon as the session exists. The server's certificate is
/// checked during the handshake (unless the context says `insecureSkipVerify`): its chain against the
/// context's roots and its names against `serverName` — a DNS name, or an IP literal matched against
/// iPAddress entries. SNI is sent for names only (RFC 6066 §3 forbids IP literals there).
///
/// Not thread-safe; everything happens on the loop that owns the connection.
public final class TLSClientSession {
  public let context: TLSClientContext
  /// The name the server's certificate must carry, and the SNI sent when it is a DNS name.
  public let serverName: String
  /// Where sessions from this server are kept in the context for the next connection (nil: none are).
  let resumptionKey: String?
  let ssl: OpaquePointer
  /// Ciphertext from the server (owned by `ssl`).
  let readBIO: OpaquePointer
  /// Ciphertext for the server (owned by `ssl`).
  let writeBIO: OpaquePointer

  enum Phase {
    case handshaking
    case established
    /// The server sent close_notify; this side may still write.
    case peerClosed
    /// This side sent close_notify.
    case closed
    case failed
  }

  var phase = Phase.handshaking
  /// What the handshake agreed on, once it completed.
  public private(set) var handshake: TLSHandshake?

  /// `resumptionKey`: connections made with the same key (say, the server's `host:port` and name) offer
  /// the session the previous one got, and skip the certificate exchange when the server takes it.
  public init(context: TLSClientContext, serverName: String, resumptionKey: String? = nil) throws(OpenSSLError) {
    guard let ssl = SSL_new(context.raw) else { throw OpenSSLError("SSL_new") }
    guard let readBIO = BIO_new(BIO_s_mem()) else {
      SSL_free(ssl)
      throw OpenSSLError("BIO_new")
    }
    guard let writeBIO = BIO_new(BIO_s_mem()) else {
      BIO_free(readBIO)
      SSL_free(ssl)
      throw OpenSSLError("BIO_new")
    }
    // An empty read BIO means "want more", not end of file.
    BIO_ctrl(readBIO, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
    SSL_set_bio(ssl, readBIO, writeBIO)  // from here on, `ssl` owns both
    self.context = context
    self.serverName = serverName
    self.resumptionKey = resumptionKey
    self.ssl = ssl
    self.readBIO = readBIO
    self.writeBIO = writeBIO
    try expect(serverName)
    SSL_set_connect_state(ssl)
    if let resumptionKey {
      SSL_set_ex_data(ssl, Self.exDataIndex, Unmanaged.passUnretained(self).toOpaque())
      context.sessions.offer(resumptionKey, to: ssl)
    }
    // The first step writes the ClientHello and waits for the server.
    ERR_clear_error()
    let status = SSL_do_handshake(ssl)
    guard SSL_get_error(ssl, status) == SSL_ERROR_WANT_READ else { throw OpenSSLError("starting the TLS handshake") }
  }

  deinit {
    SSL_set_ex_data(ssl, Self.exDataIndex, nil)
    // Freed without close_notify (a pooled connection closed while idle), OpenSSL would mark the session
    // not resumable; a connection that did not fail may leave it to the next one.
    if phase != .failed { SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN) }
    SSL_free(ssl)
  }

  /// Sets the name the certificate is checked against, and SNI for a DNS name.
  private func expect(_ name: String) throws(OpenSSLError) {
    let isAddress = Self.isIPAddress(name)
    if !isAddress {
      guard edge_ssl_set_tlsext_host_name(ssl, name) == 1 else { throw OpenSSLError("setting SNI to \(name)") }
    }
    guard !context.configuration.insecureSkipVerify else { return }
    let parameters = SSL_get0_param(ssl)
    if isAddress {
      try check(X509_VERIFY_PARAM_set1_ip_asc(parameters, name), "expecting the IP address \(name)")
    } else {
      // `*.example.com` covers `a.example.com`, never `a.b.example.com` nor `xa.example.com`.
      X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
      try check(X509_VERIFY_PARAM_set1_host(parameters, name, 0), "expecting the host name \(name)")
    }
  }

  static func isIPAddress(_ text: String) -> Bool {
    var scratch = in6_addr()
    return inet_pton(AF_INET, text, &scratch) == 1 || inet_pton(AF_INET6, text, &scratch) == 1
  }

  /// Whether application data may be written: established, or the server closed its side only.
  public var canWrite: Bool { phase == .established || phase == .peerClosed }

  // MARK: Input

  /// Queues ciphertext from the server.
  public func feed(_ ciphertext: UnsafeRawBufferPointer) {
    guard ciphertext.count > 0 else { return }
    _ = BIO_write(readBIO, ciphertext.baseAddress, Int32(ciphertext.count))
  }

  /// Runs the handshake, or decrypts queued records into `plaintext`, and reports what happened (never
  /// `.waitingForCertificate`).
  public func advance(into plaintext: ByteBuffer) -> TLSEvent {
    switch phase {
    case .handshaking: return continueHandshake()
    case .established: return read(into: plaintext)
    case .peerClosed, .closed: return .closed
    case .failed: return .failed(TLSFailure(reason: "connection already failed", alert: nil))
    }
  }

  private func continueHandshake() -> TLSEvent {
    ERR_clear_error()
    let status = SSL_do_handshake(ssl)
    if status == 1 {
      phase = .established
      let info = handshakeInfo()
      handshake = info
      return .handshakeComplete(info)
    }
    if SSL_get_error(ssl, status) == SSL_ERROR_WANT_READ { return .needMoreInput }
    let verification = SSL_get_verify_result(ssl)
    if verification != X509_V_OK {
      phase = .failed
      _ = OpenSSLError.drainQueue()
      let why = String(cString: X509_verify_cert_error_string(Int(verification)))
      return .failed(TLSFailure(reason: "certificate verification failed for \(serverName): \(why)", alert: nil))
    }
    return fail()
  }

  /// Reads until the input runs out or `TLSSession.readLimit` bytes were decrypted.
  private func read(into plaintext: ByteBuffer) -> TLSEvent {
    switch MemoryBIOIO.readDecrypted(ssl, into: plaintext, chunk: TLSSession.readChunk, limit: TLSSession.readLimit) {
    case .plaintext(let count): return .plaintext(count)
    case .needMoreInput: return .needMoreInput
    case .peerClosed:
      phase = .peerClosed
      return .closed
    case .failed: return fail()
    }
  }

  private func fail() -> TLSEvent {
    phase = .failed
    let queue = OpenSSLError.drainQueue()
    return .failed(TLSFailure(reason: queue.isEmpty ? "handshake failed" : queue.joined(separator: "; "), alert: nil))
  }

  private func handshakeInfo() -> TLSHandshake {
    var alpn: UnsafePointer<UInt8>?
    var alpnLength: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
    let applicationProtocol = alpn.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) }
    let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
    return TLSHandshake(
      version: TLSVersion(openSSLValue: SSL_version(ssl)) ?? .tls12, cipher: cipher,
      applicationProtocol: applicationProtocol, resumed: SSL_session_reused(ssl) == 1,
      serverName: Self.isIPAddress(serverName) ? nil : serverName)
  }
}

// A session belongs to one connection on one loop.
@available(*, unavailable) extension TLSClientSession: Sendable {}
