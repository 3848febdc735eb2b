import EdgeConfig
import EdgeProxy
import Synchronization

/// The compiled, immutable form of a configuration: which listeners to open, and for each request
/// (port, host, path) which handlers run. Workers read it without locks; a reload builds a new table and
/// swaps the reference, and requests already under way finish on the table they started with.
public final class RouteTable: Sendable {
  public let config: EdgeConfig
  /// Plain-HTTP listeners by port.
  public let listeners: [Int: ListenerRoutes]

  public init(config: EdgeConfig) throws(ConfigError) {
    self.config = config
    var byPort: [Int: [(SiteAddress, CompiledSite)]] = [:]
    for site in config.sites {
      let compiled = CompiledSite(site)
      for address in site.addresses {
        let port = try Self.plainHTTPPort(of: address, site: site, global: config.global)
        byPort[port, default: []].append((address, compiled))
      }
    }
    var listeners: [Int: ListenerRoutes] = [:]
    for (port, entries) in byPort { listeners[port] = ListenerRoutes(port: port, entries: entries) }
    self.listeners = listeners
  }

  /// The port a site is served on over plain HTTP. Sites that need HTTPS are refused until TLS lands.
  static func plainHTTPPort(of address: SiteAddress, site: Site, global: GlobalOptions) throws(ConfigError) -> Int {
    if address.scheme == "https" {
      throw ConfigError(
        "site '\(address)' asks for HTTPS, which this build does not serve yet; write http://\(address.host ?? "")…",
        at: site.location)
    }
    if address.scheme == "http" { return address.port ?? global.httpPort }
    if let port = address.port, address.host == nil || port == global.httpPort { return port }
    if address.port == nil && address.host == nil { return global.httpPort }
    throw ConfigError(
      "site '\(address)' would be served over HTTPS (automatic HTTPS), which this build does not do yet; "
        + "write 'http://\(address.original)' to serve it over plain HTTP", at: site.location)
  }
}

/// The sites reachable on one listener, looked up by Host and, for addresses written with a path
/// (`example.com/api/*`), by path: exact host, then `*.` wildcard (one label), then sites without a
/// host; within each, the first entry whose path matches (longer paths first, then no path).
public struct ListenerRoutes: Sendable {
  public let port: Int
  private let exact: [String: [Entry]]
  private let wildcards: [(suffix: String, entries: [Entry])]
  private let fallback: [Entry]
  /// True when some site address has a path: the site then depends on more than the Host.
  public let hasPathSites: Bool

  struct Entry: Sendable {
    let path: PathPattern?
    let pathLength: Int
    let site: CompiledSite
  }

  init(port: Int, entries: [(SiteAddress, CompiledSite)]) {
    self.port = port
    var exact: [String: [Entry]] = [:]
    var wildcards: [String: [Entry]] = [:]
    var wildcardOrder: [String] = []
    var fallback: [Entry] = []
    for (address, site) in entries {
      let entry = Entry(path: address.path.map(PathPattern.init), pathLength: address.path?.count ?? -1, site: site)
      if let host = address.host?.lowercased(), !host.isEmpty {
        if host.hasPrefix("*.") {
          let suffix = String(host.dropFirst(1))
          if wildcards[suffix] == nil { wildcardOrder.append(suffix) }
          wildcards[suffix, default: []].append(entry)
        } else {
          exact[host, default: []].append(entry)
        }
      } else {
        fallback.append(entry)
      }
    }
    // Stable: longer paths first, addresses without a path last.
    func ordered(_ list: [Entry]) -> [Entry] {
      list.enumerated().sorted { a, b in
        a.element.pathLength != b.element.pathLength ? a.element.pathLength > b.element.pathLength : a.offset < b.offset
      }.map(\.element)
    }
    self.exact = exact.mapValues(ordered)
    self.wildcards = wildcardOrder.map { ($0, ordered(wildcards[$0]!)) }
    self.fallback = ordered(fallback)
    hasPathSites = entries.contains { $0.0.path != nil }
  }

  /// The site for a Host header value (port stripped, case-folded) and a request path (no query).
  public func site(forHost rawHost: String?, path: UnsafeRawBufferPointer) -> CompiledSite? {
    if let rawHost, !rawHost.isEmpty {
      let host = Self.hostOnly(rawHost)
      if let entries = exact[host], let site = Self.first(entries, path) { return site }
      for (suffix, entries) in wildcards where host.hasSuffix(suffix) {
        let label = host.dropLast(suffix.count)
        if !label.isEmpty && !label.contains("."), let site = Self.first(entries, path) { return site }
      }
    }
    return Self.first(fallback, path)
  }

  /// The site for a host when no path is involved (tests, and listeners without path sites).
  public func site(forHost rawHost: String?) -> CompiledSite? {
    site(forHost: rawHost, path: UnsafeRawBufferPointer(start: nil, count: 0))
  }

  private static func first(_ entries: [Entry], _ path: UnsafeRawBufferPointer) -> CompiledSite? {
    entries.first { $0.path?.matches(path) ?? true }?.site
  }

  static func hostOnly(_ host: String) -> String {
    var h = Substring(host)
    if h.hasPrefix("[") {
      if let end = h.firstIndex(of: "]") { h = h[h.index(after: h.startIndex)..<end] }
    } else if let colon = h.lastIndex(of: ":") {
      h = h[..<colon]
    }
    if h.hasSuffix(".") { h = h.dropLast() }
    return h.lowercased()
  }
}

/// A site's routes, compiled.
public final class CompiledSite: Sendable {
  public let routes: [CompiledRoute]
  init(_ site: Site) {
    routes = site.routes.map(CompiledRoute.init)
  }
}

public struct CompiledRoute: Sendable {
  /// nil: every request.
  public let paths: [PathPattern]?
  public let handler: CompiledHandler

  init(_ route: Route) {
    paths = route.matcher.map { $0.paths.map(PathPattern.init) }
    switch route.handler {
    case .respond(let r): handler = .respond(StaticResponse(r))
    case .reverseProxy(let p): handler = .proxy(ProxyRoute(p))
    case .requestBody(let b): handler = .requestBody(maxSize: b.maxSize)
    }
  }

  public func matches(path: UnsafeRawBufferPointer) -> Bool {
    guard let paths else { return true }
    return paths.contains { $0.matches(path) }
  }
}

public enum CompiledHandler: Sendable {
  case respond(StaticResponse)
  case proxy(ProxyRoute)
  case requestBody(maxSize: Int?)
}

public struct StaticResponse: Sendable {
  public let status: Int
  public let body: [UInt8]
  public let close: Bool
  init(_ r: Respond) {
    status = r.status
    body = Array(r.body.utf8)
    close = r.close
  }
}

/// A `reverse_proxy` handler: its settings and the round-robin cursor shared by all workers.
public final class ProxyRoute: Sendable {
  public let config: ReverseProxy
  public let targets: [UpstreamTarget]
  /// Transport timeouts in loop milliseconds, converted once.
  public let dialMilliseconds: UInt64
  public let responseHeaderMilliseconds: UInt64
  public let keepAliveMilliseconds: UInt64?
  private let cursor = Atomic<UInt>(0)
  init(_ config: ReverseProxy) {
    self.config = config
    targets = config.upstreams.map(UpstreamTarget.init)
    dialMilliseconds = config.transport.dialTimeout.milliseconds
    responseHeaderMilliseconds = config.transport.responseHeaderTimeout.milliseconds
    keepAliveMilliseconds = config.transport.keepAlive?.milliseconds
  }

  /// The next upstream in round-robin order.
  public func nextUpstream() -> UpstreamTarget {
    let n = cursor.add(1, ordering: .relaxed).oldValue
    return targets[Int(n % UInt(targets.count))]
  }
}

/// An upstream address with its pool key made once, not per request.
public final class UpstreamTarget: Sendable, CustomStringConvertible {
  public let host: String
  public let port: Int
  public let key: PoolKey
  init(_ upstream: Upstream) {
    host = upstream.host
    port = upstream.port
    key = PoolKey(upstream.description)
  }
  public var description: String { key.text }
}
