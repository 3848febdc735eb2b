/// The admin endpoint's address, as the `admin` option and `edge reload --address` write it: a TCP
/// `host:port`, or Caddy's `unix//path/to/socket`.
public struct AdminAddress: Equatable, Sendable {
  public let host: String
  public let port: Int
  /// A unix socket's path (then `host` and `port` mean nothing).
  public let unixPath: String?

  /// `localhost:2019`, `127.0.0.1:2019`, `[::1]:2019`, `0.0.0.0:2019`, `:2019` (every interface),
  /// `unix//run/edge/admin.sock`.
  public init(parsing text: String) throws(ConfigError) {
    if text.hasPrefix("unix/") {
      let path = String(text.dropFirst("unix/".count))
      guard !path.isEmpty, !path.contains("\0") else {
        throw ConfigError("admin address '\(text)' needs a socket path, e.g. unix//run/edge/admin.sock")
      }
      (host, port, unixPath) = ("", 0, path)
      return
    }
    var rest = Substring(text)
    if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
    guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
      (1...65535).contains(port)
    else { throw ConfigError("admin address '\(text)' needs a port, e.g. localhost:2019, or a socket, e.g. unix//run/edge.sock") }
    var host = String(rest[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    self.host = host.isEmpty ? "0.0.0.0" : host
    self.port = port
    unixPath = nil
  }

  /// The address a client on this machine connects to (the wildcard and localhost are 127.0.0.1).
  public var connectIP: String { ["localhost", "0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host }

  /// The address to bind (localhost is 127.0.0.1).
  public var bindIP: String { host == "localhost" ? "127.0.0.1" : host }
  public var isLoopback: Bool { unixPath != nil || ["localhost", "127.0.0.1", "::1"].contains(host) }

  /// Host header values that name this endpoint, plus `extra` (the `origins` option, schemes dropped).
  public func allowedHosts(extra: [String] = []) -> Set<String> {
    var hosts: Set<String> = ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"]
    hosts.insert(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    for origin in extra {
      hosts.insert(origin.firstRange(of: "://").map { String(origin[$0.upperBound...]) } ?? origin)
    }
    return hosts
  }

  /// Origin values a browser page allowed to use this endpoint sends.
  public func allowedOrigins(extra: [String] = []) -> Set<String> {
    var origins = Set(allowedHosts().flatMap { ["http://\($0)", "https://\($0)"] })
    for origin in extra {
      if origin.contains("://") { origins.insert(origin) } else { origins.formUnion(["http://\(origin)", "https://\(origin)"]) }
    }
    return origins
  }
}
