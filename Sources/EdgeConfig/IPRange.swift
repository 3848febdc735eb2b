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
    guard let bytes = Self.bytes(ip), bytes.count == network.count else { return false }
    var remaining = prefixLength
    for index in 0..<bytes.count where remaining > 0 {
      let bits = min(8, remaining)
      let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
      if bytes[index] & mask != network[index] & mask { return false }
      remaining -= bits
    }
    return true
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
