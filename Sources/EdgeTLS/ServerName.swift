/// The server_name extension of a ClientHello (RFC 6066 §3), read from its raw bytes: during the
/// client-hello callback OpenSSL has not parsed it yet.
enum ServerName: Equatable {
  /// No host_name entry.
  case absent
  /// A host_name that is not a plausible DNS name (bad bytes or length).
  case invalid
  /// The name, lower-cased, without a trailing dot.
  case name(String)

  /// Parses `ServerNameList`: a 2-byte list length, then entries of type (1 byte), length (2), name.
  static func parse(_ data: UnsafeRawBufferPointer) -> ServerName {
    guard data.count >= 2 else { return .invalid }
    let listLength = Int(data[0]) << 8 | Int(data[1])
    guard listLength == data.count - 2 else { return .invalid }
    var offset = 2
    while offset + 3 <= data.count {
      let type = data[offset]
      let length = Int(data[offset + 1]) << 8 | Int(data[offset + 2])
      offset += 3
      guard offset + length <= data.count else { return .invalid }
      if type == 0 {
        return validate(UnsafeRawBufferPointer(rebasing: data[offset..<offset + length]))
      }
      offset += length
    }
    return .absent
  }

  /// Letters, digits, `-`, `_` and dots; 1–253 bytes once a trailing dot is dropped.
  static func validate(_ raw: UnsafeRawBufferPointer) -> ServerName {
    var bytes = raw[...]
    if bytes.last == UInt8(ascii: ".") { bytes = bytes.dropLast() }
    guard (1...253).contains(bytes.count) else { return .invalid }
    var lower = [UInt8]()
    lower.reserveCapacity(bytes.count)
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
        lower.append(byte)
      case UInt8(ascii: "A")...UInt8(ascii: "Z"):
        lower.append(byte | 0x20)
      default:
        return .invalid
      }
    }
    if lower.first == UInt8(ascii: ".") { return .invalid }
    return .name(String(decoding: lower, as: UTF8.self))
  }
}
