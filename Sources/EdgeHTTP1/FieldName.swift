/// A header field name kept as lower-case bytes, for comparisons on the hot path that allocate nothing.
public struct FieldName: Sendable, Equatable {
  public let bytes: [UInt8]

  public init(_ name: String) {
    bytes = name.utf8.map(ASCII.lower)
  }

  init(_ raw: UnsafeRawBufferPointer) {
    bytes = raw.map(ASCII.lower)
  }

  /// Whether `name` (raw bytes, any case) is this name.
  public func matches(_ name: UnsafeRawBufferPointer) -> Bool {
    guard name.count == bytes.count else { return false }
    for i in 0..<bytes.count where ASCII.lower(name[i]) != bytes[i] { return false }
    return true
  }

  static let close = FieldName("close")

  static let hopByHop = [
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
  ].map(FieldName.init)

  /// Whether `name` is one of the fixed hop-by-hop fields. Lengths are checked first, so most
  /// end-to-end fields are passed over without looking at a byte.
  static func isHopByHop(_ name: UnsafeRawBufferPointer) -> Bool {
    switch name.count {
    case 2, 7, 10, 16, 17: return hopByHop.contains { $0.matches(name) }
    default: return false
    }
  }
}
