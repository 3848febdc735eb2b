internal import COpenSSL

/// JA4, FoxIO's TLS client fingerprint (github.com/FoxIO-LLC/ja4, technical_details/JA4.md), for TLS
/// over TCP: `a_b_c` where
///
/// - a: `t`, the version (highest of supported_versions, else legacy_version), `d` with SNI or `i`
///   without, the cipher and extension counts (two digits, at most 99), and the first and last
///   characters of the first ALPN protocol (`00` without one);
/// - b: the first 12 hex digits of the SHA-256 of the sorted cipher suites (`002f,1301,…`);
/// - c: the same of the sorted extensions without SNI and ALPN, then `_` and the signature algorithms
///   in the order sent.
///
/// GREASE values are left out everywhere. An empty list hashes to `000000000000`.
extension ClientHello {
  public var ja4: String {
    let ciphers = cipherSuites.filter { !Self.isGREASE($0) }
    let extensions = extensions.filter { !Self.isGREASE($0) }
    let a = "t" + Self.ja4Version(offeredVersions.max() ?? legacyVersion) + (hasServerName ? "d" : "i")
      + Self.twoDigits(ciphers.count) + Self.twoDigits(extensions.count) + ja4ALPN
    let b = ciphers.isEmpty ? Self.noHash : Self.hash12(ciphers.sorted().map(Self.hex4).joined(separator: ","))
    let hashed = extensions.filter { $0 != 0x0000 && $0 != 0x0010 }.sorted()
    var c = Self.noHash
    if !hashed.isEmpty {
      var text = hashed.map(Self.hex4).joined(separator: ",")
      let schemes = signatureAlgorithms.filter { !Self.isGREASE($0) }
      if !schemes.isEmpty { text += "_" + schemes.map(Self.hex4).joined(separator: ",") }
      c = Self.hash12(text)
    }
    return a + "_" + b + "_" + c
  }

  /// The first and last characters of the first ALPN protocol; when either byte is not a letter or a
  /// digit, the first and last characters of its hex form instead.
  var ja4ALPN: String {
    guard let first = applicationProtocols.first, let head = first.first, let tail = first.last else { return "00" }
    func isAlphanumeric(_ byte: UInt8) -> Bool {
      (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }
    if isAlphanumeric(head) && isAlphanumeric(tail) {
      return String(decoding: [head, tail], as: UTF8.self)
    }
    let hex = first.map { Self.hex2($0) }.joined()
    return String(hex.first!) + String(hex.last!)
  }

  static func ja4Version(_ version: UInt16) -> String {
    switch version {
    case 0x0304: "13"
    case 0x0303: "12"
    case 0x0302: "11"
    case 0x0301: "10"
    case 0x0300: "s3"
    case 0x0002: "s2"
    case 0xfeff: "d1"
    case 0xfefd: "d2"
    case 0xfefc: "d3"
    default: "00"
    }
  }

  static let noHash = "000000000000"

  static func twoDigits(_ count: Int) -> String {
    let capped = min(count, 99)
    return capped < 10 ? "0\(capped)" : "\(capped)"
  }

  static func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]], as: UTF8.self)
  }

  static func hex4(_ value: UInt16) -> String { hex2(UInt8(value >> 8)) + hex2(UInt8(value & 0xff)) }

  /// The first 12 lower-case hex digits of the SHA-256 of `text`.
  static func hash12(_ text: String) -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    let bytes = Array(text.utf8)
    _ = EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
    return digest.prefix(6).map(hex2).joined()
  }
}
