internal import CLibUV

/// A libuv call that failed. libuv's negative status codes never leave EdgeLoop as raw numbers.
public struct UVError: Error, Hashable, Sendable, CustomStringConvertible {
  public let code: Int32
  public let call: String

  public init(code: Int32, call: String) {
    self.code = code
    self.call = call
  }

  public var name: String { String(cString: uv_err_name(code)) }
  public var description: String { "\(call): \(String(cString: uv_strerror(code)))" }

  public var isConnectionRefused: Bool { code == UV_ECONNREFUSED.rawValue }
  public var isEOF: Bool { code == UV_EOF.rawValue }
  public var isCanceled: Bool { code == UV_ECANCELED.rawValue }
  public var isTimedOut: Bool { code == UV_ETIMEDOUT.rawValue }
  public var isAddressInUse: Bool { code == UV_EADDRINUSE.rawValue }

  static let timedOut = UVError(code: UV_ETIMEDOUT.rawValue, call: "connect")
  /// A security layer's failure (bad TLS record or handshake).
  public static let securityFailure = UVError(code: UV_EPROTO.rawValue, call: "tls")
}

@inline(__always)
func check(_ status: Int32, _ call: String) throws(UVError) {
  if status < 0 { throw UVError(code: status, call: call) }
}
