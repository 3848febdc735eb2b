internal import CCrypt
import Glibc

/// bcrypt password hashes for `basic_auth`, through libxcrypt (`crypt_r`): the `$2a$`, `$2b$` and `$2y$`
/// forms `caddy hash-password` and `htpasswd -B` write (the config checks their form: `PasswordHashForm`). Checking one costs 2^cost rounds (about 1 s at
/// Caddy's default cost 14), so callers run it off the event loops.
public enum PasswordHash {
  /// Whether `password` hashes to `hash`. The comparison takes the same time wherever the first
  /// difference is.
  public static func verify(password: String, hash: String) -> Bool {
    guard let computed = crypt(password, setting: hash) else { return false }
    let a = Array(computed.utf8)
    let b = Array(hash.utf8)
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
  }

  /// A new bcrypt hash of `password` with a random salt (`$2b$`), for `edge hash-password`.
  public static func bcrypt(_ password: String, cost: Int = 14) -> String? {
    var salt = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
    // A nil random buffer makes libxcrypt read the system's random source itself.
    guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &salt, Int32(salt.count)) != nil else { return nil }
    let end = salt.firstIndex(of: 0) ?? salt.count
    return crypt(password, setting: String(decoding: salt[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }

  /// `crypt_r` with its ~32 KiB work area on the heap. Passwords with a NUL cannot be hashed (C strings).
  private static func crypt(_ password: String, setting: String) -> String? {
    guard !password.utf8.contains(0) else { return nil }
    let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
    defer {
      // The work area held the password: wipe it before it goes back to the allocator.
      memset(data, 0, MemoryLayout<crypt_data>.size)
      data.deallocate()
    }
    memset(data, 0, MemoryLayout<crypt_data>.size)
    guard let result = crypt_r(password, setting, data) else { return nil }
    let text = String(cString: result)
    // Failures come back as a string starting with `*`, never a hash.
    return text.hasPrefix("$") ? text : nil
  }
}
