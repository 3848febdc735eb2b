internal import CEdgeShims
internal import COpenSSL
import EdgeCore

/// Client-side session resumption: the newest session (a TLS 1.3 ticket, or a TLS 1.2 session) each
/// server gave this context, offered again on the next connection made with the same resumption key
/// (edge uses the upstream's `host:port` and expected name). A resumed handshake skips the certificate
/// exchange; the session came from a handshake this context verified.
final class ClientSessionCache: @unchecked Sendable {
  // Invariant: `sessions` holds one reference to each SSL_SESSION, read and written under `lock` only.
  private let lock = Locked<[String: OpaquePointer]>([:])

  deinit {
    lock.withLock { sessions in
      for session in sessions.values { SSL_SESSION_free(session) }
      sessions.removeAll()
    }
  }

  /// Keeps `session` (whose reference the cache now owns) for `key`, in place of the one before.
  func store(_ session: OpaquePointer, for key: String) {
    let replaced = lock.withLock { sessions in sessions.updateValue(session, forKey: key) }
    if let replaced { SSL_SESSION_free(replaced) }
  }

  /// Offers the session kept for `key` to `ssl` (before its handshake); false when there is none.
  @discardableResult
  func offer(_ key: String, to ssl: OpaquePointer) -> Bool {
    lock.withLock { sessions in
      guard let session = sessions[key] else { return false }
      return SSL_set_session(ssl, session) == 1  // takes its own reference
    }
  }

}

extension TLSClientContext {
  /// Has OpenSSL hand new sessions to `newSessionCallback` instead of keeping them itself.
  func enableResumption() {
    _ = edge_ssl_ctx_set_session_cache_mode(raw, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE))
    SSL_CTX_sess_set_new_cb(raw, TLSClientSession.newSessionCallback)
  }
}

extension TLSClientSession {
  /// The SSL ex_data slot holding the (unretained) client session.
  static let exDataIndex: Int32 = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)

  static func from(_ ssl: OpaquePointer?) -> TLSClientSession? {
    guard let ssl, let raw = SSL_get_ex_data(ssl, exDataIndex) else { return nil }
    return Unmanaged<TLSClientSession>.fromOpaque(raw).takeUnretainedValue()
  }

  /// A server gave a session (after the handshake, or in a TLS 1.3 ticket): kept for the next connection.
  /// Returning 1 keeps OpenSSL's reference, which the cache then owns.
  static let newSessionCallback: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let client = from(ssl), let key = client.resumptionKey, let session, SSL_SESSION_is_resumable(session) == 1
    else { return 0 }
    client.context.sessions.store(session, for: key)
    return 1
  }
}
