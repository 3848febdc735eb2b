internal import CEdgeShims
internal import COpenSSL

/// OpenSSL's C callbacks, set once on every SSL_CTX. Each finds its session through the SSL's ex_data.
extension TLSSession {
  /// The SSL ex_data slot holding the (unretained) session.
  static let exDataIndex: Int32 = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nil, nil, nil, nil)

  static func from(_ ssl: OpaquePointer?) -> TLSSession? {
    guard let ssl, let raw = SSL_get_ex_data(ssl, exDataIndex) else { return nil }
    return Unmanaged<TLSSession>.fromOpaque(raw).takeUnretainedValue()
  }

  static let clientHelloCallback: SSL_client_hello_cb_fn = { ssl, alert, _ in
    guard let session = from(ssl), let alert else { return SSL_CLIENT_HELLO_ERROR }
    return session.clientHello(alert: alert)
  }

  static let alpnCallback:
    @convention(c) (
      OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
      UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> Int32 = { ssl, out, outLength, offered, offeredLength, _ in
      guard let session = from(ssl), let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
      return session.selectApplicationProtocol(
        offered: UnsafeRawBufferPointer(start: offered, count: Int(offeredLength)), out: out, outLength: outLength)
    }

  /// OpenSSL runs this only for a client that sent status_request, once the certificate is chosen.
  static let statusCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ssl, _ in
    guard let session = from(ssl) else { return SSL_TLSEXT_ERR_NOACK }
    return session.stapleOCSPResponse()
  }

  /// Records fatal alerts this side sends, so a failure can say which, and alerts the client sends
  /// (other than close_notify), so telemetry can.
  static let infoCallback: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, type, value in
    if type & SSL_CB_WRITE_ALERT == SSL_CB_WRITE_ALERT, value >> 8 == SSL3_AL_FATAL {
      from(ssl)?.sentAlert = UInt8(truncatingIfNeeded: value)
    } else if type & SSL_CB_READ_ALERT == SSL_CB_READ_ALERT, value & 0xff != SSL_AD_CLOSE_NOTIFY {
      from(ssl)?.receivedAlert = UInt8(truncatingIfNeeded: value)
    }
  }

  /// AES-256-CBC fetched once: `EVP_aes_256_cbc()` makes OpenSSL 3 look the implementation up again at
  /// every ticket (a name lookup in its method store). Kept for the life of the process.
  nonisolated(unsafe) static let ticketCipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-CBC", nil)

  /// Seals (`encrypt == 1`) or opens a session ticket with the context's `TicketKeyRing`.
  /// Returns 1 (ok), 2 (ok, but issue a fresh ticket: sealed by an older key), 0 (unknown key: full
  /// handshake) or -1 (error).
  static let ticketKeyCallback:
    @convention(c) (
      OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?,
      Int32
    ) -> Int32 = { ssl, name, iv, cipher, mac, encrypt in
      guard let session = from(ssl), let ring = session.context.configuration.ticketKeys, let name, let iv else {
        return -1
      }
      if encrypt == 1 {
        let key = ring.sealingKey
        guard RAND_bytes(iv, 16) == 1 else { return -1 }
        name.update(from: key.name, count: 16)
        guard EVP_EncryptInit_ex(cipher, ticketCipher, nil, key.aesKey, iv) == 1,
          edge_ticket_hmac_init(mac, key.hmacKey, key.hmacKey.count) == 1
        else { return -1 }
        return 1
      }
      guard let found = ring.key(named: UnsafeRawBufferPointer(start: name, count: 16)) else { return 0 }
      guard EVP_DecryptInit_ex(cipher, ticketCipher, nil, found.key.aesKey, iv) == 1,
        edge_ticket_hmac_init(mac, found.key.hmacKey, found.key.hmacKey.count) == 1
      else { return -1 }
      return found.isNewest ? 1 : 2
    }
}
