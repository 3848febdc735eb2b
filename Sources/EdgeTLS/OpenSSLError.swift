internal import COpenSSL

/// An OpenSSL call that failed, with the library's own error queue rendered as text.
/// OpenSSL's return codes and error queue never leave EdgeTLS as raw numbers.
public struct OpenSSLError: Error, Sendable, CustomStringConvertible {
  public let call: String
  public let details: [String]

  public init(_ call: String) {
    self.call = call
    details = OpenSSLError.drainQueue()
  }

  /// A failure edge found itself, before asking OpenSSL (the queue is left alone).
  init(_ call: String, details: [String]) {
    self.call = call
    self.details = details
  }

  public var description: String {
    details.isEmpty ? "\(call) failed" : "\(call): \(details.joined(separator: "; "))"
  }

  /// Empties this thread's OpenSSL error queue into text (so errors never leak into the next call).
  static func drainQueue() -> [String] {
    var lines: [String] = []
    while true {
      let code = ERR_get_error()
      if code == 0 { break }
      var buffer = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &buffer, buffer.count)
      lines.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
    return lines
  }
}

/// Throws `OpenSSLError(call)` unless `status` is 1 (OpenSSL's usual success).
@inline(__always)
func check(_ status: Int32, _ call: String) throws(OpenSSLError) {
  if status != 1 { throw OpenSSLError(call) }
}
