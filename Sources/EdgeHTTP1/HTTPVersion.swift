/// An HTTP protocol version, as in `HTTP/1.1`.
public struct HTTPVersion: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var major: UInt8
  public var minor: UInt8

  public init(major: UInt8, minor: UInt8) {
    self.major = major
    self.minor = minor
  }

  /// HTTP/1.0
  public static let http1_0 = HTTPVersion(major: 1, minor: 0)
  /// HTTP/1.1
  public static let http1_1 = HTTPVersion(major: 1, minor: 1)

  public var description: String { "HTTP/\(major).\(minor)" }

  /// Parses exactly `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3); nil for anything else.
  static func parse(_ bytes: UnsafeRawBufferPointer) -> HTTPVersion? {
    guard bytes.count == 8,
      bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50, bytes[4] == ASCII.slash,
      ASCII.isDigit(bytes[5]), bytes[6] == 0x2E, ASCII.isDigit(bytes[7])
    else { return nil }
    return HTTPVersion(major: bytes[5] - 0x30, minor: bytes[7] - 0x30)
  }

  /// Whether this parser speaks the version: 1.0 or 1.1.
  var isSupported: Bool { self == .http1_0 || self == .http1_1 }

  /// HTTP/1.1 for HTTP/1.2 to HTTP/1.9 (RFC 9112 §2.3: a message of a higher minor version is processed
  /// as one of the highest minor version the recipient implements), else the version itself.
  var highestSpoken: HTTPVersion { major == 1 && minor > 1 ? .http1_1 : self }
}
