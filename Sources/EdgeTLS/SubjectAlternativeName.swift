#if canImport(Glibc)
  import Glibc
#endif

/// One name a certificate is valid for: a DNS name or an IP address (IPv4 or IPv6).
public enum SubjectAlternativeName: Hashable, Sendable, CustomStringConvertible {
  /// A host name such as `localhost`, `app.internal` or `*.app.internal`.
  case dns(String)
  /// An IP address in its canonical text form (`127.0.0.1`, `::1`).
  case ipAddress(String)

  /// Classifies a site name: an IP literal (optionally in brackets) becomes `.ipAddress`, a valid host
  /// name `.dns`. Anything else (empty, spaces, commas, a trailing dot, labels over 63 bytes) is nil.
  public init?(_ name: String) {
    var literal = Substring(name)
    if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
    if let address = IPAddressBytes(String(literal)) {
      self = .ipAddress(address.text)
    } else if SubjectAlternativeName.isHostName(name) {
      self = .dns(name)
    } else {
      return nil
    }
  }

  public var description: String {
    switch self {
    case .dns(let name): "DNS:\(name)"
    case .ipAddress(let address): "IP:\(address)"
    }
  }

  /// RFC 1123 labels (letters, digits, `-`, and `_` for internal names), an optional leading `*`
  /// label, at most 253 bytes in all.
  static func isHostName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty, bytes.count <= 253 else { return false }
    let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    for (index, label) in labels.enumerated() {
      if index == 0, label.elementsEqual("*".utf8), labels.count > 1 { continue }
      guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
      else { return false }
      for byte in label {
        let allowed =
          (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
          || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        if !allowed { return false }
      }
    }
    return true
  }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order, parsed and printed by libc.
struct IPAddressBytes {
  let bytes: [UInt8]

  /// Parses dotted IPv4 or IPv6 text; nil when it is neither.
  init?(_ text: String) {
    var buffer = [UInt8](repeating: 0, count: 16)
    if inet_pton(AF_INET, text, &buffer) == 1 {
      bytes = Array(buffer[0..<4])
    } else if inet_pton(AF_INET6, text, &buffer) == 1 {
      bytes = buffer
    } else {
      return nil
    }
  }

  /// Takes raw address bytes (from a certificate); nil unless there are 4 or 16.
  init?(bytes: [UInt8]) {
    guard bytes.count == 4 || bytes.count == 16 else { return nil }
    self.bytes = bytes
  }

  /// Canonical text (`127.0.0.1`, `::1`).
  var text: String {
    var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    _ = inet_ntop(family, bytes, &output, socklen_t(output.count))
    return output.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }
}
