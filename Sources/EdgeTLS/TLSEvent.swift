/// What `TLSSession.advance(into:)` did. Call `advance` again until it returns `.needMoreInput`,
/// `.waitingForCertificate`, `.closed` or `.failed`, and send `takeOutput` after every call.
public enum TLSEvent: Equatable, Sendable {
  /// Nothing more can happen until more ciphertext is fed (or, while waiting, a certificate is provided).
  case needMoreInput
  /// The client asked for a name the cache does not hold. Look it up (off the loop), hop back, then call
  /// `provideCertificate(_:)` and `advance` again. Reported once per handshake.
  case waitingForCertificate(serverName: String)
  /// The handshake finished; application data may follow in the same input.
  case handshakeComplete(TLSHandshake)
  /// This many decrypted bytes were appended to the caller's buffer.
  case plaintext(Int)
  /// The peer sent close_notify: no more data will come.
  case closed
  /// The handshake or the connection failed. Send what `takeOutput` holds (it may be an alert), then close.
  case failed(TLSFailure)
}

/// What a completed handshake agreed on.
public struct TLSHandshake: Equatable, Sendable {
  public let version: TLSVersion
  /// OpenSSL's name of the cipher suite, e.g. `TLS_AES_128_GCM_SHA256`.
  public let cipher: String
  /// The ALPN protocol chosen, or nil when the client offered none the server accepts.
  public let applicationProtocol: String?
  /// Whether a session ticket let the client skip the full handshake.
  public let resumed: Bool
  /// The SNI the client sent (lower-case), if any.
  public let serverName: String?
}

/// Why a TLS connection failed.
public struct TLSFailure: Error, Equatable, Sendable, CustomStringConvertible {
  /// OpenSSL's explanation (its error queue), or edge's own.
  public let reason: String
  /// The fatal alert edge sent the peer (RFC 8446 §6), if one was sent: 112 unrecognized_name,
  /// 70 protocol_version, 40 handshake_failure, …
  public let alert: UInt8?

  public var description: String {
    alert.map { "TLS failed (sent alert \($0)): \(reason)" } ?? "TLS failed: \(reason)"
  }
}
