#if canImport(Glibc)
  import Glibc
#endif

/// A PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2): what a proxy writes first on
/// a connection to say whose connection it relays. edge reads it from load balancers in front of it
/// (`listener_wrappers { proxy_protocol }`) and writes it to upstreams that ask (`transport http {
/// proxy_protocol v1|v2 }`).
public enum ProxyHeader: Equatable, Sendable {
  /// v2 LOCAL: the balancer's own connection (a health check); the peer's real addresses stand.
  case local
  /// v1 `UNKNOWN`, or a v2 PROXY for a family or protocol edge does not carry (unix sockets, UDP, none):
  /// relayed, but the addresses are not usable; the peer's real addresses stand.
  case unknown
  /// A TCP connection from `source` that reached the proxy at `destination`.
  case proxied(source: ProxyEndpoint, destination: ProxyEndpoint)

  public enum Version: Sendable, Equatable {
    case v1, v2
  }

  /// The 12 bytes every v2 header starts with.
  static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
  /// What every v1 header starts with.
  static let v1Signature = Array("PROXY ".utf8)
  /// The longest v1 header, CRLF included (the specification's limit).
  static let v1MaxLength = 107

  /// The header as `version` writes it. Endpoints of different families are both written as IPv6 (the
  /// IPv4 one mapped), since a header names one family.
  public func encoded(_ version: Version) -> [UInt8] {
    switch version {
    case .v1: return encodedV1()
    case .v2: return encodedV2()
    }
  }

  private func encodedV1() -> [UInt8] {
    guard case .proxied(let source, let destination) = self else { return Array("PROXY UNKNOWN\r\n".utf8) }
    let (from, to) = ProxyEndpoint.sameFamily(source, destination)
    let family = from.address.count == 4 ? "TCP4" : "TCP6"
    return Array("PROXY \(family) \(from.text) \(to.text) \(from.port) \(to.port)\r\n".utf8)
  }

  private func encodedV2() -> [UInt8] {
    var out = Self.v2Signature
    switch self {
    case .local:
      out += [0x20, 0x00, 0x00, 0x00]
    case .unknown:
      out += [0x21, 0x00, 0x00, 0x00]
    case .proxied(let source, let destination):
      let (from, to) = ProxyEndpoint.sameFamily(source, destination)
      let v4 = from.address.count == 4
      let length = v4 ? 12 : 36
      out += [0x21, v4 ? 0x11 : 0x21, UInt8(length >> 8), UInt8(length & 0xFF)]
      out += from.address
      out += to.address
      out += [UInt8(from.port >> 8), UInt8(from.port & 0xFF), UInt8(to.port >> 8), UInt8(to.port & 0xFF)]
    }
    return out
  }
}

/// An IP address and TCP port in a PROXY header.
public struct ProxyEndpoint: Equatable, Sendable, CustomStringConvertible {
  /// 4 bytes (IPv4) or 16 (IPv6), network order.
  public let address: [UInt8]
  public let port: Int

  /// nil unless `address` is 4 or 16 bytes and `port` is 0–65535.
  public init?(address: [UInt8], port: Int) {
    guard address.count == 4 || address.count == 16, (0...65535).contains(port) else { return nil }
    self.address = address
    self.port = port
  }

  /// From an IP literal (no brackets) as sockets print it; nil when it is not one.
  public init?(ip: String, port: Int) {
    var v4 = in_addr()
    if inet_pton(AF_INET, ip, &v4) == 1 {
      self.init(address: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
      return
    }
    var v6 = in6_addr()
    guard inet_pton(AF_INET6, ip, &v6) == 1 else { return nil }
    self.init(address: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
  }

  /// The address as text, IPv4-mapped IPv6 addresses as the IPv4 address they are (as `TCPStream` shows
  /// peers).
  public var ip: String {
    if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
      return Self.text(Array(address[12...]))
    }
    return text
  }

  /// The address as text in its own family (no unmapping).
  var text: String { Self.text(address) }

  public var description: String { address.count == 16 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

  private static func text(_ bytes: [UInt8]) -> String {
    var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let family = bytes.count == 4 ? AF_INET : AF_INET6
    let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &out, socklen_t(out.count)) != nil }
    return ok ? out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : "?"
  }

  /// The IPv4 address as an IPv4-mapped IPv6 one (`::ffff:a.b.c.d`); IPv6 ones as they are.
  var mappedToIPv6: ProxyEndpoint {
    guard address.count == 4 else { return self }
    return ProxyEndpoint(address: Array(repeating: 0, count: 10) + [0xFF, 0xFF] + address, port: port)!
  }

  /// Both endpoints in one family: IPv6 when either is.
  static func sameFamily(_ a: ProxyEndpoint, _ b: ProxyEndpoint) -> (ProxyEndpoint, ProxyEndpoint) {
    a.address.count == b.address.count ? (a, b) : (a.mappedToIPv6, b.mappedToIPv6)
  }
}
