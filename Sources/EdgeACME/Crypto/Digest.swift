internal import COpenSSL

/// The two primitives ACME needs besides signatures: SHA-256 (thumbprints, key authorizations) and
/// HMAC-SHA256 (External Account Binding, RFC 8555 §7.3.4).
enum Digest {
  static func sha256<Bytes: Sequence>(_ input: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
    let bytes = Array(input)
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    let status = bytes.withUnsafeBytes { raw in
      EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
    }
    // SHA-256 over memory cannot fail short of allocation failure; a wrong digest would be worse than a trap.
    precondition(status == 1 && length == 32, "EVP_Digest(SHA-256) failed")
    return digest
  }

  static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
    var mac = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    let result = key.withUnsafeBytes { keyBytes in
      message.withUnsafeBytes { messageBytes in
        HMAC(
          EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
          messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count, &mac, &length)
      }
    }
    precondition(result != nil && length == 32, "HMAC(SHA-256) failed")
    return mac
  }
}
