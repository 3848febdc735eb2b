/// Builds ClientHello bytes by hand for the parser and JA4 tests: the body field by field, the handshake
/// message, and the records carrying it (split where a test asks).
struct ClientHelloBuilder {
  var legacyVersion: UInt16 = 0x0303
  var sessionID: [UInt8] = Array(repeating: 7, count: 32)
  var ciphers: [UInt16] = [0x1301]
  /// Extensions in wire order: type and raw data. nil: the hello ends after compression methods.
  var extensions: [(UInt16, [UInt8])]? = []

  static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
  static func list16(_ values: [UInt16]) -> [UInt8] { values.flatMap { u16(Int($0)) } }

  static func serverName(_ name: String) -> (UInt16, [UInt8]) {
    let entry = [0] + u16(name.utf8.count) + Array(name.utf8)
    return (0x0000, u16(entry.count) + entry)
  }
  static func alpn(_ names: [[UInt8]]) -> (UInt16, [UInt8]) {
    let list = names.flatMap { [UInt8($0.count)] + $0 }
    return (0x0010, u16(list.count) + list)
  }
  static func alpn(_ names: [String]) -> (UInt16, [UInt8]) { alpn(names.map { Array($0.utf8) }) }
  static func supportedVersions(_ versions: [UInt16]) -> (UInt16, [UInt8]) {
    (0x002b, [UInt8(versions.count * 2)] + list16(versions))
  }
  static func groups(_ groups: [UInt16]) -> (UInt16, [UInt8]) { (0x000a, u16(groups.count * 2) + list16(groups)) }
  static func signatureAlgorithms(_ schemes: [UInt16]) -> (UInt16, [UInt8]) {
    (0x000d, u16(schemes.count * 2) + list16(schemes))
  }
  /// An extension whose content the parser does not read.
  static func opaque(_ type: UInt16, _ data: [UInt8] = []) -> (UInt16, [UInt8]) { (type, data) }

  var body: [UInt8] {
    var bytes = Self.u16(Int(legacyVersion)) + Array(repeating: 0x42, count: 32)
    bytes += [UInt8(sessionID.count)] + sessionID
    bytes += Self.u16(ciphers.count * 2) + Self.list16(ciphers)
    bytes += [1, 0]  // compression: null only
    if let extensions {
      let block = extensions.flatMap { Self.u16(Int($0.0)) + Self.u16($0.1.count) + $0.1 }
      bytes += Self.u16(block.count) + block
    }
    return bytes
  }

  /// The handshake message: type client_hello, a 24-bit length, the body.
  var message: [UInt8] {
    let body = body
    return [1, UInt8(body.count >> 16), UInt8(body.count >> 8 & 0xff), UInt8(body.count & 0xff)] + body
  }

  /// The message in handshake records of at most `sizes[i]` bytes each (the last size repeats).
  func records(_ sizes: [Int] = [16_384]) -> [UInt8] {
    Self.records(message, sizes)
  }

  static func records(_ message: [UInt8], _ sizes: [Int]) -> [UInt8] {
    var out: [UInt8] = []
    var offset = 0
    var index = 0
    while offset < message.count {
      let size = min(sizes[min(index, sizes.count - 1)], message.count - offset)
      out += [22, 3, 1] + u16(size) + message[offset..<(offset + size)]
      offset += size
      index += 1
    }
    return out
  }
}

/// `"1301,1302"` → `[0x1301, 0x1302]`: lists copied from the JA4 documentation.
func hexList(_ text: String) -> [UInt16] {
  text.split(separator: ",").map { UInt16($0, radix: 16)! }
}
