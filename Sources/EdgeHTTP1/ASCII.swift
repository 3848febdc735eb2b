/// Byte classes and comparisons of HTTP's ASCII grammar (RFC 9110 §5.6), without allocation.
enum ASCII {
  static let cr: UInt8 = 0x0D
  static let lf: UInt8 = 0x0A
  static let space: UInt8 = 0x20
  static let tab: UInt8 = 0x09
  static let colon: UInt8 = 0x3A
  static let comma: UInt8 = 0x2C
  static let semicolon: UInt8 = 0x3B
  static let slash: UInt8 = 0x2F

  /// `tchar` (RFC 9110 §5.6.2) as a bit set over 0..<128: bits 0-63, then 64-127.
  static let tcharLow: UInt64 = 0x03ff_6cfa_0000_0000
  static let tcharHigh: UInt64 = 0x57ff_ffff_c7ff_fffe
  /// The bytes of `uri-host [":" port]` (RFC 3986 reg-name, IP-literal, port), without "@".
  static let hostLow: UInt64 = 0x2fff_7ff2_0000_0000
  static let hostHigh: UInt64 = 0x47ff_fffe_afff_fffe

  @inline(__always)
  static func inSet(_ byte: UInt8, _ low: UInt64, _ high: UInt64) -> Bool {
    if byte < 64 { return low & (1 &<< UInt64(byte)) != 0 }
    if byte < 128 { return high & (1 &<< UInt64(byte &- 64)) != 0 }
    return false
  }

  /// A token character: what methods, field names and transfer codings are made of.
  @inline(__always)
  static func isTchar(_ byte: UInt8) -> Bool { inSet(byte, tcharLow, tcharHigh) }

  /// A byte allowed in a Host value or an authority.
  @inline(__always)
  static func isHostByte(_ byte: UInt8) -> Bool { inSet(byte, hostLow, hostHigh) }

  /// SP or HTAB.
  @inline(__always)
  static func isOWS(_ byte: UInt8) -> Bool { byte == space || byte == tab }

  /// A byte allowed in a field value: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5).
  @inline(__always)
  static func isFieldValueByte(_ byte: UInt8) -> Bool {
    byte == tab || (byte >= 0x20 && byte != 0x7F)
  }

  /// A visible ASCII character (VCHAR): the bytes of a request target.
  @inline(__always)
  static func isVisible(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

  @inline(__always)
  static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

  /// The byte with ASCII letters folded to lower case.
  @inline(__always)
  static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

  /// Whether two byte runs are equal with ASCII letters compared case-insensitively.
  static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] && lower(a[i]) != lower(b[i]) {
      return false
    }
    return true
  }

  /// Whether `bytes` equal `string`'s UTF-8, ASCII letters compared case-insensitively.
  static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ string: String) -> Bool {
    guard bytes.count == string.utf8.count else { return false }
    return withBytes(of: string) { equalsIgnoringCase(bytes, $0) }
  }

  /// Calls `body` with the UTF-8 of `string`, copying only for a string without contiguous storage.
  static func withBytes<R>(of string: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
      return result
    }
    return Array(string.utf8).withUnsafeBytes(body)
  }

  /// `range` of `bytes` without leading and trailing SP/HTAB.
  static func trimmingOWS(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
    var lower = range.lowerBound
    var upper = range.upperBound
    while lower < upper, isOWS(bytes[lower]) { lower += 1 }
    while upper > lower, isOWS(bytes[upper - 1]) { upper -= 1 }
    return lower..<upper
  }

  /// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1), trimmed of OWS,
  /// empty elements included; stops early when `body` returns false. Returns whether it ran to the end.
  @discardableResult
  static func forEachListElement(
    _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (Range<Int>) -> Bool
  ) -> Bool {
    var start = range.lowerBound
    var i = start
    while i <= range.upperBound {
      if i == range.upperBound || bytes[i] == comma {
        if !body(trimmingOWS(bytes, start..<i)) { return false }
        start = i + 1
      }
      i += 1
    }
    return true
  }

  /// A string from UTF-8 bytes (invalid sequences become U+FFFD).
  @inline(__always)
  static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
  }
}

extension UnsafeRawBufferPointer {
  /// The bytes in `range`, as a buffer of their own.
  @inline(__always)
  func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: self[range])
  }
}

extension ASCII {
  /// Whether `bytes` equal the ASCII `literal` ignoring case; for names known at compile time.
  @inline(__always)
  static func matches(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    guard bytes.count == literal.utf8CodeUnitCount else { return false }
    return equalsIgnoringCase(bytes, UnsafeRawBufferPointer(start: literal.utf8Start, count: bytes.count))
  }

  /// Whether `range` is a valid Host value, `uri-host [ ":" port ]` (RFC 9110 §7.2): a bracketed
  /// IP literal or a name without colons, then an optional decimal port. Empty is valid.
  static func isValidHost(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
    guard let first = range.first else { return true }
    var i = first
    if bytes[first] == 0x5B {  // "[" IP-literal "]"
      i += 1
      while i < range.upperBound && bytes[i] != 0x5D {
        guard isHostByte(bytes[i]), bytes[i] != 0x5B else { return false }
        i += 1
      }
      guard i < range.upperBound else { return false }
      i += 1
    } else {
      while i < range.upperBound && bytes[i] != colon {
        guard isHostByte(bytes[i]), bytes[i] != 0x5B, bytes[i] != 0x5D else { return false }
        i += 1
      }
    }
    guard i < range.upperBound else { return true }
    guard bytes[i] == colon else { return false }
    for j in i + 1..<range.upperBound where !isDigit(bytes[j]) { return false }
    return true
  }
}
