/// A bounds-checked cursor over bytes from the network: every read returns nil instead of running past
/// the end, so hostile input can only make a parse fail.
struct WireReader {
  private let bytes: ArraySlice<UInt8>
  private var index: Int

  init(_ bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
    index = bytes.startIndex
  }

  var isAtEnd: Bool { index == bytes.endIndex }

  mutating func u8() -> UInt8? {
    guard index < bytes.endIndex else { return nil }
    defer { index += 1 }
    return bytes[index]
  }

  mutating func u16() -> UInt16? {
    guard let high = u8(), let low = u8() else { return nil }
    return UInt16(high) << 8 | UInt16(low)
  }

  /// The next `count` bytes.
  mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
    guard count >= 0, bytes.endIndex - index >= count else { return nil }
    defer { index += count }
    return bytes[index..<(index + count)]
  }

  /// A vector with a one-byte length prefix.
  mutating func vector8() -> ArraySlice<UInt8>? {
    guard let count = u8() else { return nil }
    return take(Int(count))
  }

  /// A vector with a two-byte length prefix.
  mutating func vector16() -> ArraySlice<UInt8>? {
    guard let count = u16() else { return nil }
    return take(Int(count))
  }

  /// `bytes` read as a list of two-byte values (nil when its length is odd).
  static func u16List(_ bytes: ArraySlice<UInt8>) -> [UInt16]? {
    guard bytes.count % 2 == 0 else { return nil }
    var reader = WireReader(bytes)
    var values: [UInt16] = []
    values.reserveCapacity(bytes.count / 2)
    while let value = reader.u16() { values.append(value) }
    return values
  }
}
