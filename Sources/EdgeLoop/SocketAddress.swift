internal import CLibUV
import Glibc

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
  var storage: sockaddr_storage

  init(storage: sockaddr_storage) { self.storage = storage }

  /// Parses an IP literal (no brackets) and port; nil if `ip` is not an IP address.
  public init?(ip: String, port: Int) {
    var storage = sockaddr_storage()
    let ok = withUnsafeMutablePointer(to: &storage) { raw -> Bool in
      if ip.contains(":") {
        return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_addr(ip, Int32(port), $0) == 0 }
      }
      return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_addr(ip, Int32(port), $0) == 0 }
    }
    guard ok else { return nil }
    self.storage = storage
  }

  public var isIPv6: Bool { storage.ss_family == sa_family_t(AF_INET6) }

  public var ip: String {
    var out = [CChar](repeating: 0, count: 64)
    var copy = storage
    withUnsafePointer(to: &copy) { raw in
      if isIPv6 {
        raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { _ = uv_ip6_name($0, &out, out.count) }
      } else {
        raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { _ = uv_ip4_name($0, &out, out.count) }
      }
    }
    return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  public var port: Int {
    var copy = storage
    return withUnsafePointer(to: &copy) { raw in
      if isIPv6 {
        return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
      }
      return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
    }
  }

  public var description: String { isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

  public static func == (a: SocketAddress, b: SocketAddress) -> Bool { a.description == b.description }
  public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
