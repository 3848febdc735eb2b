internal import COpenSSL
import Foundation

/// The cluster secret every node of one cluster shares (`--secret-file` or the environment). It never
/// travels: two keys are derived from it with HKDF-SHA256, one that seals private keys before they are
/// stored in Redis (AES-256-GCM), one that authenticates events on pub/sub (HMAC-SHA256). A node without
/// the secret can read neither.
public struct ClusterSecret: Sendable {
  let sealingKey: [UInt8]
  let signingKey: [UInt8]

  public enum Failure: Error, CustomStringConvertible, Equatable {
    /// Fewer than 32 bytes: too easy to guess.
    case tooShort(Int)
    /// The sealed value is not one of ours, was changed, or was sealed under another secret or name.
    case cannotOpen
    case crypto(String)

    public var description: String {
      switch self {
      case .tooShort(let n): "the cluster secret has \(n) bytes; use at least 32 (e.g. `openssl rand -base64 48`)"
      case .cannotOpen: "sealed value cannot be opened: changed, or sealed under another cluster secret"
      case .crypto(let what): "OpenSSL failed: \(what)"
      }
    }
  }

  /// `secret`: the raw bytes as read from the file or environment (surrounding whitespace removed).
  public init(_ secret: [UInt8]) throws(Failure) {
    guard secret.count >= 32 else { throw .tooShort(secret.count) }
    sealingKey = try Self.hkdf(secret, info: "edge cluster v1: sealing private keys")
    signingKey = try Self.hkdf(secret, info: "edge cluster v1: signing events")
  }

  /// Reads a secret file (its content, trimmed).
  public init(file path: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    try self.init(Array(text.utf8))
  }

  // MARK: Sealing (private keys at rest in Redis)

  /// How many bytes sealing adds to a value: the version byte, the nonce and the tag (GCM adds no padding).
  public static let sealingOverhead = 1 + 12 + 16

  /// `version(1) | nonce(12) | ciphertext | tag(16)`; `name` (the storage key) is authenticated with it,
  /// so a sealed value copied to another name does not open.
  public func seal(_ plaintext: [UInt8], name: String) throws(Failure) -> [UInt8] {
    var nonce = [UInt8](repeating: 0, count: 12)
    guard RAND_bytes(&nonce, 12) == 1 else { throw .crypto("RAND_bytes") }
    guard let context = EVP_CIPHER_CTX_new() else { throw .crypto("EVP_CIPHER_CTX_new") }
    defer { EVP_CIPHER_CTX_free(context) }
    var out = [UInt8](repeating: 0, count: plaintext.count + 16)
    var length: Int32 = 0
    let aad = Array(name.utf8)
    guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, nonce) == 1,
      aad.isEmpty || EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1,
      EVP_EncryptUpdate(context, &out, &length, plaintext, Int32(plaintext.count)) == 1
    else { throw .crypto("AES-256-GCM encrypt") }
    var total = Int(length)
    guard out.withUnsafeMutableBufferPointer({ EVP_EncryptFinal_ex(context, $0.baseAddress! + total, &length) }) == 1
    else { throw .crypto("AES-256-GCM final") }
    total += Int(length)
    var tag = [UInt8](repeating: 0, count: 16)
    guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else { throw .crypto("GCM tag") }
    return [1] + nonce + out[0..<total] + tag
  }

  public func open(_ sealed: [UInt8], name: String) throws(Failure) -> [UInt8] {
    guard sealed.count >= 1 + 12 + 16, sealed[0] == 1 else { throw .cannotOpen }
    let nonce = Array(sealed[1..<13])
    let ciphertext = Array(sealed[13..<(sealed.count - 16)])
    var tag = Array(sealed[(sealed.count - 16)...])
    guard let context = EVP_CIPHER_CTX_new() else { throw .crypto("EVP_CIPHER_CTX_new") }
    defer { EVP_CIPHER_CTX_free(context) }
    var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
    var length: Int32 = 0
    let aad = Array(name.utf8)
    guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, sealingKey, nonce) == 1,
      aad.isEmpty || EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1,
      EVP_DecryptUpdate(context, &out, &length, ciphertext, Int32(ciphertext.count)) == 1,
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1
    else { throw .cannotOpen }
    var total = Int(length)
    guard out.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(context, $0.baseAddress! + total, &length) }) == 1
    else { throw .cannotOpen }
    total += Int(length)
    return Array(out[0..<total])
  }

  // MARK: Signing (events on pub/sub)

  /// HMAC-SHA256 of `message` under the signing key.
  public func sign(_ message: [UInt8]) throws(Failure) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    guard HMAC(EVP_sha256(), signingKey, Int32(signingKey.count), message, message.count, &digest, &length) != nil,
      length == 32
    else { throw .crypto("HMAC") }
    return digest
  }

  /// Whether `signature` is `message`'s; compared in constant time.
  public func verify(_ message: [UInt8], signature: [UInt8]) -> Bool {
    guard signature.count == 32, let expected = try? sign(message) else { return false }
    return CRYPTO_memcmp(expected, signature, 32) == 0
  }

  /// `sign`, as lower-case hex (how signatures travel in events and in the stored configuration).
  public func signHex(_ message: [UInt8]) throws(Failure) -> String { Self.hex(try sign(message)) }

  /// `verify` for a hex signature (either case); anything that is not 64 hex digits fails.
  public func verify(_ message: [UInt8], hexSignature: some Collection<UInt8>) -> Bool {
    guard let signature = Self.unhex(ArraySlice(hexSignature)) else { return false }
    return verify(message, signature: signature)
  }

  /// The derivation alone, for its test vector.
  public static func testHKDF(_ secret: [UInt8], info: String) throws(Failure) -> [UInt8] { try hkdf(secret, info: info) }

  /// HKDF-SHA256 (RFC 5869) with an empty salt: 32 bytes for `info`.
  static func hkdf(_ secret: [UInt8], info: String) throws(Failure) -> [UInt8] {
    guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil) else { throw .crypto("EVP_PKEY_CTX_new_id(HKDF)") }
    defer { EVP_PKEY_CTX_free(context) }
    var key = [UInt8](repeating: 0, count: 32)
    var length = 32
    let infoBytes = Array(info.utf8)
    guard EVP_PKEY_derive_init(context) == 1,
      EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) == 1,
      EVP_PKEY_CTX_set1_hkdf_key(context, secret, Int32(secret.count)) == 1,
      infoBytes.isEmpty || EVP_PKEY_CTX_add1_hkdf_info(context, infoBytes, Int32(infoBytes.count)) == 1,
      EVP_PKEY_derive(context, &key, &length) == 1, length == 32
    else { throw .crypto("HKDF") }
    return key
  }

  static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func unhex(_ text: ArraySlice<UInt8>) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case 48...57: c - 48
      case 97...102: c - 87
      case 65...70: c - 55
      default: nil
      }
    }
    var out = [UInt8]()
    out.reserveCapacity(text.count / 2)
    var index = text.startIndex
    while index < text.endIndex {
      guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
      out.append(high << 4 | low)
      index += 2
    }
    return out
  }
}
