internal import COpenSSL

/// HMAC-SHA256 for callers outside the TLS stack (sticky-session cookies), so OpenSSL stays behind
/// EdgeTLS's wall.
public enum HMACSHA256 {
  /// The 32-byte MAC of `message` under `key` (an empty key is allowed).
  public static func mac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    // An empty array has no base address, and OpenSSL reads a NULL key as "keep the previous key":
    // give it a real (unread) byte instead.
    let keyStorage = key.isEmpty ? [0] : key
    let result = keyStorage.withUnsafeBytes { keyBytes in
      message.withUnsafeBytes { messageBytes in
        HMAC(
          EVP_sha256(), keyBytes.baseAddress, Int32(key.count),
          messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &out, &length)
      }
    }
    // HMAC over memory fails only when allocation does; a wrong MAC would be worse than a trap.
    precondition(result != nil && length == 32, "HMAC(SHA-256) failed")
    return out
  }

  /// The MAC as lower-case hex, the form Caddy's `cookie` policy puts in its cookie.
  public static func hex(key: String, _ message: String) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in mac(key: Array(key.utf8), Array(message.utf8)) {
      text.append(digits[Int(byte >> 4)])
      text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
  }
}
