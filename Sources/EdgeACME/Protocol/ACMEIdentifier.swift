import Glibc

/// What a certificate is for: a DNS name (RFC 8555 §9.7.7) or an IP address (RFC 8738).
public struct ACMEIdentifier: Sendable, Hashable, Codable, CustomStringConvertible {
  public let type: String
  public let value: String

  public init(type: String, value: String) {
    self.type = type
    self.value = value
  }

  /// `name` as an identifier: an IPv4/IPv6 literal becomes type `ip`, anything else must be a DNS name
  /// (letters, digits, `-`, `.`, optionally starting with `*.`) and becomes type `dns`, lower-cased.
  public init(name: String) throws(ACMEError) {
    if let address = IPAddressText.canonical(name) {
      self.init(type: "ip", value: address)
      return
    }
    let lowered = name.lowercased()
    guard Self.isDNSName(lowered) else {
      throw ACMEError(.invalidInput, "'\(name)' is neither a DNS name nor an IP address")
    }
    self.init(type: "dns", value: lowered)
  }

  public var description: String { value }

  /// A dNSName as CAs accept it: labels of letters, digits and inner hyphens, at most 253 characters,
  /// and a leading `*` label for a wildcard.
  static func isDNSName(_ name: String) -> Bool {
    guard !name.isEmpty, name.utf8.count <= 253 else { return false }
    var labels = name.split(separator: ".", omittingEmptySubsequences: false)
    if labels.first == "*" { labels.removeFirst() }
    guard !labels.isEmpty else { return false }
    return labels.allSatisfy { label in
      guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
      return label.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
          || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
      }
    }
  }
}

/// IP literals in their canonical text form (inet_pton then inet_ntop).
enum IPAddressText {
  static func canonical(_ text: String) -> String? {
    guard let bytes = bytes(text) else { return nil }
    var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    guard inet_ntop(family, bytes, &output, socklen_t(output.count)) != nil else { return nil }
    return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// 4 or 16 bytes, or nil when `text` is not an address literal (brackets are not accepted).
  static func bytes(_ text: String) -> [UInt8]? {
    var v4 = [UInt8](repeating: 0, count: 4)
    if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
    var v6 = [UInt8](repeating: 0, count: 16)
    if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
    return nil
  }
}
