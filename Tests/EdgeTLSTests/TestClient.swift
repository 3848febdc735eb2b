import COpenSSL
import CEdgeShims
@testable import EdgeTLS

/// A TLS client over memory BIOs, for driving `TLSSession` in tests. Real OpenSSL, no sockets.
final class TestClient {
  struct Options {
    var serverName: String? = "a.test"
    var alpn: [String] = ["http/1.1"]
    var minVersion: Int32 = TLS1_2_VERSION
    var maxVersion: Int32 = TLS1_3_VERSION
    var ciphers: String? = nil
    var session: OpaquePointer? = nil
    /// Key-exchange groups; the client sends a key share for the first one only.
    var groups: String? = nil
    /// Sends status_request (asks the server to staple an OCSP response).
    var requestStatus = false
  }

  let ctx: OpaquePointer
  let ssl: OpaquePointer
  let readBIO: OpaquePointer
  let writeBIO: OpaquePointer
  private(set) var isEstablished = false
  private(set) var failure: String?
  /// The fatal alert the server sent us, if any.
  var receivedAlert: UInt8?
  var received: [UInt8] = []

  static let exIndex = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)

  init(_ options: Options = Options()) {
    ctx = SSL_CTX_new(TLS_client_method())!
    _ = edge_ssl_ctx_set_min_proto(ctx, options.minVersion)
    _ = edge_ssl_ctx_set_max_proto(ctx, options.maxVersion)
    if let ciphers = options.ciphers { SSL_CTX_set_cipher_list(ctx, ciphers) }
    if let groups = options.groups { _ = edge_ssl_ctx_set1_groups_list(ctx, groups) }
    ssl = SSL_new(ctx)!
    readBIO = BIO_new(BIO_s_mem())!
    writeBIO = BIO_new(BIO_s_mem())!
    BIO_ctrl(readBIO, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
    SSL_set_bio(ssl, readBIO, writeBIO)
    SSL_set_connect_state(ssl)
    if let name = options.serverName { _ = edge_ssl_set_tlsext_host_name(ssl, name) }
    if !options.alpn.isEmpty {
      let wire = options.alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
      SSL_set_alpn_protos(ssl, wire, UInt32(wire.count))
    }
    if let session = options.session { SSL_set_session(ssl, session) }
    if options.requestStatus {
      // SSL_set_tlsext_status_type is a macro over SSL_ctrl.
      _ = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, Int(TLSEXT_STATUSTYPE_ocsp), nil)
    }
    SSL_set_ex_data(ssl, Self.exIndex, Unmanaged.passUnretained(self).toOpaque())
    SSL_set_info_callback(ssl) { ssl, type, value in
      guard type & SSL_CB_READ_ALERT == SSL_CB_READ_ALERT, value >> 8 == SSL3_AL_FATAL,
        let raw = SSL_get_ex_data(ssl, TestClient.exIndex)
      else { return }
      Unmanaged<TestClient>.fromOpaque(raw).takeUnretainedValue().receivedAlert = UInt8(value & 0xff)
    }
  }

  deinit {
    SSL_free(ssl)
    SSL_CTX_free(ctx)
  }

  /// Runs the handshake or reads what arrived.
  func step() {
    guard failure == nil else { return }
    ERR_clear_error()
    if !isEstablished {
      let status = withExtendedLifetime(self) { SSL_do_handshake(ssl) }
      if status == 1 {
        isEstablished = true
      } else {
        let error = SSL_get_error(ssl, status)
        if error != SSL_ERROR_WANT_READ { failure = "handshake: \(OpenSSLError.drainQueue())" }
        return
      }
    }
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      var count = 0
      let status = withExtendedLifetime(self) { SSL_read_ex(ssl, &buffer, buffer.count, &count) }
      if status == 1 {
        received += buffer[0..<count]
        continue
      }
      let error = SSL_get_error(ssl, status)
      if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_ZERO_RETURN {
        failure = "read: \(OpenSSLError.drainQueue())"
      }
      return
    }
  }

  func write(_ bytes: [UInt8]) {
    var written = 0
    let status = SSL_write_ex(ssl, bytes, bytes.count, &written)
    precondition(status == 1 && written == bytes.count, "client write failed")
  }

  func feed(_ bytes: UnsafeRawBufferPointer) {
    _ = BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
  }

  func takeOutput() -> [UInt8] {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      let count = BIO_read(writeBIO, &buffer, Int32(buffer.count))
      if count <= 0 { return out }
      out += buffer[0..<Int(count)]
    }
  }

  /// The leaf the server presented.
  var peerCertificate: OpaquePointer? { SSL_get0_peer_certificate(ssl) }

  func presented(_ key: CertifiedKey) -> Bool {
    guard let peer = peerCertificate else { return false }
    return X509_cmp(peer, key.leaf) == 0
  }

  /// Certificates the server sent (leaf and intermediates).
  var peerChainLength: Int32 { SSL_get_peer_cert_chain(ssl).map { OPENSSL_sk_num($0) } ?? 0 }

  /// The OCSP response the server stapled, if any (SSL_get_tlsext_status_ocsp_resp, a macro over SSL_ctrl).
  var stapledResponse: [UInt8]? {
    var data: UnsafeMutablePointer<UInt8>? = nil
    let length = withUnsafeMutablePointer(to: &data) { SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, $0) }
    guard let data, length > 0 else { return nil }
    return Array(UnsafeBufferPointer(start: data, count: length))
  }

  /// The session to resume with (owned by the caller: SSL_SESSION_free).
  func session() -> OpaquePointer? { SSL_get1_session(ssl) }

  var negotiatedProtocol: String? {
    var data: UnsafePointer<UInt8>?
    var length: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &data, &length)
    return data.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self) }
  }
}

enum SSLShutdown {
  /// Makes the client send close_notify.
  static func send(_ client: TestClient) -> Int32 { SSL_shutdown(client.ssl) }
}
