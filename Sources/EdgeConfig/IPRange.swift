#if canImport(Glibc)
  import Glibc
#endif

/// An IP address or CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.1`), matched byte-wise.
public struct IPRange: Sendable, Equatable {
  let network: [UInt8]
  let prefixLength: Int

  public init?(_ text: String) {
    let parts = text.split(separator: "/", maxSplits: 1)
    guard let address = parts.first, let bytes = Self.bytes(String(address)) else { return nil }
    let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
    guard let length, (0...(bytes.count * 8)).contains(length) else { return nil }
    network = bytes
    prefixLength = length
  }

  /// Whether `ip` (text, as `TCPStream.peerIP()` gives it) is in the range.
  public func contains(_ ip: String) -> Bool {
    guard let bytes = Self.bytes(ip) else { return false }
    return contains(address: bytes)
  }

  /// Whether the address `bytes` (4 or 16, as `IPRange.address(_:)` gives them) is in the range.
  public func contains(address bytes: [UInt8]) -> Bool {
    guard bytes.count == network.count else { return false }
    var remaining = prefixLength
    for index in 0..<bytes.count where remaining > 0 {
      let bits = min(8, remaining)
      let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
      if bytes[index] & mask != network[index] & mask { return false }
      remaining -= bits
    }
    return true
  }

  /// The address `text` names, 4 bytes for IPv4 and 16 for IPv6 (an IPv4-mapped IPv6 address as the
  /// IPv4 one); nil when it is not an IP address.
  public static func address(_ text: String) -> [UInt8]? {
    guard let bytes = bytes(text) else { return nil }
    if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
      return Array(bytes[12...])
    }
    return bytes
  }

  /// `bytes` (4 or 16) as text, IPv6 in its shortest form.
  public static func text(_ bytes: [UInt8]) -> String {
    var out = [CChar](repeating: 0, count: 64)
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &out, socklen_t(out.count)) != nil }
    return ok ? out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : ""
  }

  /// 4 bytes for IPv4, 16 for IPv6, nil otherwise.
  static func bytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
    return nil
  }
}
