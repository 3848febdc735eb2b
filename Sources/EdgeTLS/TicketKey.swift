internal import CEdgeShims
internal import COpenSSL

/// One session-ticket key: a 16-byte name (sent in the clear inside each ticket, to find the key again),
/// an AES-256-CBC key and an HMAC-SHA256 key. 80 bytes in all.
///
/// Tickets let a client resume without the server keeping state, so every node that should resume a
/// session must hold the key that sealed it; see `TicketKeyRing` for rotation and sharing.
public struct TicketKey: Sendable, Hashable {
  public static let byteCount = 80
  public let name: [UInt8]
  let aesKey: [UInt8]
  let hmacKey: [UInt8]

  /// A key from its 80-byte serialized form (name, AES key, HMAC key), as kept in cluster storage.
  public init?(bytes: [UInt8]) {
    guard bytes.count == Self.byteCount else { return nil }
    name = Array(bytes[0..<16])
    aesKey = Array(bytes[16..<48])
    hmacKey = Array(bytes[48..<80])
  }

  /// A fresh key from OpenSSL's CSPRNG.
  public static func random() -> TicketKey {
    var bytes = [UInt8](repeating: 0, count: byteCount)
    // RAND_bytes fails only if the CSPRNG cannot be seeded; sealing tickets then would be unsafe.
    let status = RAND_bytes(&bytes, Int32(byteCount))
    guard status == 1 else { fatalError("RAND_bytes failed: no entropy for session-ticket keys") }
    return TicketKey(bytes: bytes)!
  }

  /// The 80-byte serialized form.
  public var bytes: [UInt8] { name + aesKey + hmacKey }
}
