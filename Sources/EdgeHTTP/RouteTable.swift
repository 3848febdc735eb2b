import EdgeAuth
import EdgeConfig
import EdgeMetrics
import EdgeHTTP1
import EdgeProxy
import Foundation
import Glibc
import EdgeTLS
import EdgeCore
import Synchronization

/// The compiled, immutable form of a configuration: which listeners to open, and for each request
/// (port, host, path) which handlers run. Workers read it without locks; a reload builds a new table and
/// swaps the reference, and requests already under way finish on the table they started with.
public final class RouteTable: Sendable {
  public let config: EdgeConfig
  /// Listeners by port, plain HTTP or TLS.
  public let listeners: [Int: ListenerRoutes]
  /// What TLS listeners need from the node (nil: the table was built without TLS, e.g. in tests).
  public let tls: TLSEnvironment?

  /// Requests for a host no site serves (nil with `metrics off`).
  public let unmatchedMeter: SiteMeter?
  /// PROXY headers from load balancers and trusted proxies' forwarding fields.
  public let forwarding: ClientForwarding

  public init(config: EdgeConfig, tls: TLSEnvironment? = nil) throws(ConfigError) {
    self.config = config
    self.tls = tls
    forwarding = ClientForwarding(config.global.servers)
    // Upstream TLS contexts: a CA file that cannot be read is an error at its reverse_proxy.
    try CompiledTransport.prepare(config)
    unmatchedMeter = config.global.requestMetrics ? SiteMeter(site: "unmatched") : nil
    var byPort: [Int: [(SiteAddress, CompiledSite)]] = [:]
    var secure: [Int: Bool] = [:]
    var secureHosts: [String] = []
    var policies: [Int: [String: TLSSitePolicy]] = [:]
    var names: [Int: Set<String>] = [:]
    for site in config.sites {
      let compiled = CompiledSite(site, metered: config.global.requestMetrics)
      for address in site.addresses {
        let where_ = site.listening(address, global: config.global)
        if let other = secure[where_.port], other != where_.secure {
          throw ConfigError(
            "port \(where_.port) would serve both plain HTTP and HTTPS (site '\(address)'); give the "
              + "\(where_.secure ? "HTTPS" : "plain HTTP") site another port, or write http:// or https:// on both",
            at: site.location)
        }
        secure[where_.port] = where_.secure
        byPort[where_.port, default: []].append((address, compiled))
        if where_.secure, let host = address.host?.lowercased() {
          secureHosts.append(host)
          names[where_.port, default: []].insert(host)
          let policy = try Self.policy(of: site)
          if !policy.isEmpty { policies[where_.port, default: [:]][host] = policy }
        } else if where_.secure, site.tls?.onDemand != true, site.tls == nil || site.tls?.certificates == .automatic {
          throw ConfigError(
            "site '\(address)' is served over HTTPS but names no host, so no certificate can be chosen for it; "
              + "add a host name, give it 'tls <cert_file> <key_file>', or 'tls { on_demand }'", at: site.location)
        } else if !where_.secure, site.tls != nil {
          throw ConfigError(
            "site '\(address)' is served over plain HTTP, so its 'tls' directive would do nothing; "
              + "remove 'http://' or the 'tls' directive", at: site.location)
        }
      }
    }
    // Automatic HTTPS: plain HTTP for a host served over HTTPS redirects, unless a site serves that host
    // over plain HTTP on the HTTP port itself.
    let httpPort = config.global.httpPort
    // An on-demand site for every name (`https://` with `tls { on_demand }`) redirects every plain host,
    // and its HTTP-01 validations need the HTTP port too.
    let onDemandCatchAll = config.sites.contains { site in
      site.tls?.onDemand == true && site.addresses.contains { $0.host == nil && site.listening($0, global: config.global).secure }
    }
    if config.global.autoHTTPS == .on || config.global.autoHTTPS == .disableCerts,
      !secureHosts.isEmpty || onDemandCatchAll, secure[httpPort] != true
    {
      let plainHosts = Set((byPort[httpPort] ?? []).compactMap { $0.0.host?.lowercased() })
      let redirect = CompiledSite(redirectingTo: config.global.httpsPort)
      var added = Set<String>()
      for host in secureHosts where !plainHosts.contains(host) && added.insert(host).inserted {
        byPort[httpPort, default: []].append((SiteAddress(host: host, original: "http://" + host), redirect))
      }
      if onDemandCatchAll, !(byPort[httpPort] ?? []).contains(where: { $0.0.host == nil }) {
        byPort[httpPort, default: []].append((SiteAddress(original: "http://"), redirect))
      }
      secure[httpPort] = false
    }
    var listeners: [Int: ListenerRoutes] = [:]
    for (port, entries) in byPort {
      var context: TLSContext?
      if secure[port] == true, let tls {
        do {
          var configuration = tls.configuration
          // HTTP/2 is offered by ALPN, preferred over HTTP/1.1, unless `protocols` leaves it out.
          configuration.applicationProtocols = config.global.servers.protocols.contains("h2") ? ["h2", "http/1.1"] : ["http/1.1"]
          context = try TLSContext(
            configuration: configuration, certificates: tls.cache, sitePolicies: policies[port] ?? [:],
            defaultServerName: config.global.defaultSNI, siteNames: names[port] ?? [])
        } catch {
          throw ConfigError("cannot set up TLS for port \(port): \(error)")
        }
      }
      listeners[port] = ListenerRoutes(port: port, entries: entries, secure: secure[port] == true, tls: context)
    }
    self.listeners = listeners
  }

  /// A site's `protocols`, `ciphers` and `curves`, in OpenSSL's terms.
  static func policy(of site: Site) throws(ConfigError) -> TLSSitePolicy {
    guard let tls = site.tls else { return TLSSitePolicy() }
    var policy = TLSSitePolicy()
    if tls.minVersion != nil || tls.maxVersion != nil {
      func parse(_ text: String?, _ fallback: TLSVersion) -> TLSVersion {
        switch text {
        case "tls1.2": .tls12
        case "tls1.3": .tls13
        default: fallback
        }
      }
      let low = parse(tls.minVersion, .tls12)
      let high = parse(tls.maxVersion, .tls13)
      guard low <= high else { throw ConfigError("'protocols': the minimum is newer than the maximum", at: site.location) }
      policy.versions = low...high
    }
    /// Caddy's names → OpenSSL's list (`a:b`). The adapter checked them; JSON configs are checked here.
    func openSSLList(_ names: [String]?, _ table: [String: String], _ what: String) throws(ConfigError) -> String? {
      guard let names else { return nil }
      var mapped: [String] = []
      for name in names {
        guard let openSSLName = table[name] else { throw ConfigError("unknown \(what) '\(name)'", at: site.location) }
        mapped.append(openSSLName)
      }
      return mapped.joined(separator: ":")
    }
    policy.tls12Ciphers = try openSSLList(tls.ciphers, SiteTLS.cipherSuites, "cipher suite")
    policy.groups = try openSSLList(tls.curves, SiteTLS.curveNames, "curve")
    return policy
  }
}

/// What TLS listeners share across route tables: the node's certificates, where missing ones come from,
/// the session-ticket keys, and how long a handshake may wait for a certificate.
public struct TLSEnvironment: Sendable {
  public let cache: CertificateCache
  public let source: any CertificateSource
  public let configuration: TLSConfiguration
  public let lookupTimeoutMilliseconds: UInt64

  public init(
    cache: CertificateCache, source: any CertificateSource, configuration: TLSConfiguration,
    lookupTimeoutMilliseconds: UInt64 = 10_000
  ) {
    self.cache = cache
    self.source = source
    self.configuration = configuration
    self.lookupTimeoutMilliseconds = lookupTimeoutMilliseconds
  }
}

/// The sites reachable on one listener, looked up by Host and, for addresses written with a path
/// (`example.com/api/*`), by path: exact host, then `*.` wildcard (one label), then sites without a
/// host; within each, the first entry whose path matches (longer paths first, then no path).
public struct ListenerRoutes: Sendable {
  public let port: Int
  /// Whether connections on this port speak TLS.
  public let secure: Bool
  /// The TLS context of a secure listener (nil when the table was built without a `TLSEnvironment`).
  public let tls: TLSContext?
  private let exact: [String: [Entry]]
  private let wildcards: [(suffix: String, entries: [Entry])]
  private let fallback: [Entry]
  /// True when some site address has a path: the site then depends on more than the Host.
  public let hasPathSites: Bool
  /// Every site on this listener (each once).
  public var sites: [CompiledSite] {
    var seen = Set<ObjectIdentifier>()
    return (exact.values.flatMap { $0 } + wildcards.flatMap(\.entries) + fallback).map(\.site)
      .filter { seen.insert(ObjectIdentifier($0)).inserted }
  }

  struct Entry: Sendable {
    let path: PathPattern?
    let pathLength: Int
    let site: CompiledSite
  }

  init(port: Int, entries: [(SiteAddress, CompiledSite)], secure: Bool = false, tls: TLSContext? = nil) {
    self.port = port
    self.secure = secure
    self.tls = tls
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
  /// `handle_errors` blocks in the order they are tried.
  public let errorRoutes: [CompiledErrorRoutes]
  /// `log`: where this site's access lines go.
  public let accessLog: AccessLogger?
  /// This site's request series; nil with `metrics off`.
  public let meter: SiteMeter?
  init(_ site: Site, metered: Bool = true) {
    routes = site.routes.map(CompiledRoute.init)
    errorRoutes = (site.errors ?? []).map(CompiledErrorRoutes.init)
    accessLog = site.log.map(AccessLogger.init)
    meter = metered ? SiteMeter(site: site.addresses.first?.original ?? "") : nil
  }

  /// The `handle_errors` routes for an error `status`, if any block takes it.
  public func errorRoutes(for status: Int) -> [CompiledRoute]? {
    errorRoutes.first { $0.statuses.isEmpty || $0.statuses.contains { $0.contains(status) } }?.routes
  }

  /// The site automatic HTTPS puts on the HTTP port for a host served over HTTPS: ACME HTTP-01
  /// challenges are left alone (404 until the ACME agent answers them), everything else gets 308.
  init(redirectingTo httpsPort: Int) {
    routes = [
      CompiledRoute(paths: [PathPattern("/.well-known/acme-challenge/*")], handler: .respond(StaticResponse(status: 404, body: "no such challenge\n"))),
      CompiledRoute(paths: nil, handler: .redirectToHTTPS(port: httpsPort)),
    ]
    errorRoutes = []
    accessLog = nil
    meter = nil
  }
}

/// One `handle_errors` block, compiled.
public struct CompiledErrorRoutes: Sendable {
  /// Empty: every error.
  public let statuses: [ClosedRange<Int>]
  public let routes: [CompiledRoute]
  init(_ block: ErrorRoutes) {
    statuses = ErrorRoutes.ranges(block.statuses) ?? []
    routes = block.routes.map(CompiledRoute.init)
  }
}

public struct CompiledRoute: Sendable {
  /// nil: every path.
  public let paths: [PathPattern]?
  /// The conditions beyond the path (named matchers); nil for path-only routes.
  public let conditions: CompiledMatcher?
  public let handler: CompiledHandler

  init(paths: [PathPattern]?, handler: CompiledHandler) {
    self.paths = paths
    self.conditions = nil
    self.handler = handler
  }

  init(_ route: Route) {
    if let matcher = route.matcher {
      paths = matcher.paths.isEmpty ? nil : matcher.paths.map(PathPattern.init)
      conditions = matcher.isPathOnly ? nil : CompiledMatcher(matcher)
    } else {
      paths = nil
      conditions = nil
    }
    switch route.handler {
    case .respond(let r): handler = .respond(StaticResponse(r))
    case .reverseProxy(let p): handler = .proxy(ProxyRoute(p))
    case .requestBody(let b): handler = .requestBody(maxSize: b.maxSize)
    case .headers(let h): handler = .headers(h.operations)
    case .root(let path): handler = .root(path)
    case .fileServer(let config): handler = .fileServer(config)
    case .group(let group): handler = .group(CompiledGroup(group))
    case .redirect(let redirect): handler = .redirect(redirect)
    case .rewrite(let rewrite): handler = .rewrite(rewrite)
    case .route(let group): handler = .route(CompiledGroup(group))
    case .abort: handler = .abort
    case .metrics: handler = .metrics
    case .error(let error): handler = .error(error)
    case .tryFiles(let files): handler = .tryFiles(files)
    case .encode(let encode): handler = .encode(encode)
    case .basicAuth(let auth):
      handler = .basicAuth(BasicAuthenticator(accounts: auth.accounts.map { ($0.username, $0.hash) }, realm: auth.realm))
    }
  }

  public func matches(path: UnsafeRawBufferPointer) -> Bool {
    guard let paths else { return true }
    return paths.contains { $0.matches(path) }
  }

  /// The path, then (for named matchers) the rest of the request; regexp groups go into `captures`.
  public func matches(path: UnsafeRawBufferPointer, _ request: MatchRequest, captures: inout RegexCaptures) -> Bool {
    guard matches(path: path) else { return false }
    return conditions?.matches(path: path, request, captures: &captures) ?? true
  }
}

public enum CompiledHandler: Sendable {
  case respond(StaticResponse)
  case proxy(ProxyRoute)
  case requestBody(maxSize: Int?)
  /// Operations on the response's fields (non-terminal, like `requestBody`).
  case headers([HeaderOperation])
  /// 308 to the same host and URI over HTTPS on `port`.
  case redirectToHTTPS(port: Int)
  /// The directory `file_server` serves (non-terminal).
  case root(String)
  case fileServer(FileServerConfig)
  /// `handle` / `handle_path`: routes of their own (terminal once matched).
  case group(CompiledGroup)
  case redirect(Redirect)
  case rewrite(URIRewrite)
  /// `route`: routes in written order, non-exclusive.
  case route(CompiledGroup)
  case abort
  /// The node's Prometheus metrics.
  case metrics
  case error(ErrorResponse)
  case tryFiles([String])
  case encode(EncodeConfig)
  /// A gate: the request goes on only with credentials it accepts (non-terminal).
  case basicAuth(BasicAuthenticator)
}

/// A `handle` or `handle_path` block, compiled.
public final class CompiledGroup: Sendable {
  public let routes: [CompiledRoute]
  /// `handle_path`: the prefix removed from the path (bytes, as written).
  public let stripPrefix: [UInt8]?
  init(_ group: RouteGroup) {
    routes = group.routes.map(CompiledRoute.init)
    stripPrefix = group.stripPrefix.map { Array($0.utf8) }
  }
}

/// What the routes decided for one request: the handler that answers, and what the non-terminal
/// routes on the way collected.
public struct RouteResolution: Sendable {
  public var handler: CompiledHandler?
  public var bodyLimit: Int?
  public var responseFields: [HeaderOperation] = []
  public var root: String?
  /// `encode`: how responses may be compressed.
  public var encoding: EncodeConfig?
  /// `basic_auth` gates passed on the way to the handler, in order: each must accept the request.
  public var authenticators: [BasicAuthenticator] = []
  /// The request target (path and query) after `handle_path`, `rewrite` or `uri` changed it; nil when
  /// none did.
  public var target: String?
  /// Groups of the regexp matchers that matched (`{re.name.1}`).
  public var captures = RegexCaptures()
  /// A `rewrite` has applied (rewrites are mutually exclusive: the first matching one wins).
  private var rewritten = false

  public init() {}

  /// Runs `routes` over `path` (no query): non-terminal routes collect, the first terminal one decides.
  /// A matching `handle` group runs its own routes (on the stripped path for `handle_path`) and decides
  /// even if none of them answers (then there is no handler: 404); a `route` group decides only if one of
  /// its routes does. A rewrite changes the path the routes after it see. Returns whether it decided.
  @discardableResult
  public mutating func resolve(_ routes: [CompiledRoute], path: UnsafeRawBufferPointer, _ request: MatchRequest) -> Bool {
    for (index, route) in routes.enumerated() where route.matches(path: path, request, captures: &captures) {
      switch route.handler {
      case .requestBody(let max):
        if let max { bodyLimit = min(bodyLimit ?? max, max) }
      case .headers(let operations):
        responseFields += operations
      case .root(let directory):
        root = directory
      case .encode(let encode):
        encoding = encode
      case .basicAuth(let authenticator):
        authenticators.append(authenticator)
      case .route(let group):
        if resolve(group.routes, path: path, request) { return true }
      case .group(let group):
        guard let prefix = group.stripPrefix else {
          resolve(group.routes, path: path, request)
          return true
        }
        var rest = Array(path.dropFirst(prefix.count))
        if rest.first != UInt8(ascii: "/") { rest.insert(UInt8(ascii: "/"), at: 0) }
        // `path` is the decoded form matchers see: the target gets it encoded again.
        target = MatchPath.escaped(rest) + OriginTarget.querySuffix(target ?? request.head.path)
        rest.withUnsafeBytes { _ = resolve(group.routes, path: $0, request) }
        return true
      case .tryFiles(let files):
        guard
          let next = Self.firstExisting(
            files, root: root ?? ".", target: target ?? request.head.path, request, captures: captures)
        else { continue }
        return resolve(routes[(index + 1)...], after: next, path: path, request)
      case .rewrite(let rewrite):
        if rewrite.operation == .to {
          if rewritten { continue }
          rewritten = true
        }
        let next = rewrite.apply(to: target ?? request.head.path, request, captures: captures)
        return resolve(routes[(index + 1)...], after: next, path: path, request)
      default:
        handler = route.handler
        return true
      }
    }
    return false
  }

  /// A rewrite changed the target to `next`: the routes after it run on its path (the old path when
  /// `next` is only a query).
  private mutating func resolve(
    _ remaining: ArraySlice<CompiledRoute>, after next: String, path: UnsafeRawBufferPointer, _ request: MatchRequest
  ) -> Bool {
    target = next
    let nextPath = OriginTarget.split(next).path
    guard !nextPath.isEmpty else { return resolve(Array(remaining), path: path, request) }
    var bytes = String(nextPath)
    return bytes.withUTF8 { raw in
      let rawPath = UnsafeRawBufferPointer(raw)
      guard let normal = MatchPath.normalized(rawPath) else { return resolve(Array(remaining), path: rawPath, request) }
      return normal.withUnsafeBytes { resolve(Array(remaining), path: $0, request) }
    }
  }

  /// `try_files`: the first candidate (placeholders filled in, relative to `root`) that exists — a file,
  /// or a directory when it ends in `/` — as the new target, keeping the query. A candidate that would
  /// leave the root (`..`) is skipped.
  static func firstExisting(
    _ files: [String], root: String, target: String, _ request: MatchRequest, captures: RegexCaptures
  ) -> String? {
    var head = request.head
    head.path = target
    let context = request.placeholders(head, captures: captures)
    for file in files {
      var candidate = Placeholders.expand(file, context)
      if !candidate.hasPrefix("/") { candidate = "/" + candidate }
      let pathOnly = String(OriginTarget.split(candidate).path)
      let decoded = pathOnly.removingPercentEncoding ?? pathOnly
      if decoded.split(separator: "/").contains("..") { continue }
      var info = stat()
      guard stat(root + decoded, &info) == 0 else { continue }
      let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
      if decoded.hasSuffix("/") ? isDirectory : !isDirectory {
        return candidate.contains("?") ? candidate : candidate + OriginTarget.querySuffix(target)
      }
    }
    return nil
  }

}

extension URIRewrite {
  /// The new target (path and query) for `target`.
  func apply(to target: String, _ request: MatchRequest, captures: RegexCaptures) -> String {
    let path = String(OriginTarget.split(target).path)
    let query = OriginTarget.querySuffix(target)
    switch operation {
    case .to:
      let context = request.placeholders(captures: captures)
      let expanded = Placeholders.expand(value, context)
      // `rewrite ?a=b` keeps the path; `rewrite /p` keeps the query unless it gives one.
      if expanded.hasPrefix("?") { return path + expanded }
      return expanded.contains("?") ? expanded : expanded + query
    case .stripPrefix:
      let prefix = value.hasPrefix("/") ? value : "/" + value
      guard path.hasPrefix(prefix) else { return target }
      let rest = path.dropFirst(prefix.count)
      return (rest.hasPrefix("/") ? String(rest) : "/" + rest) + query
    case .stripSuffix:
      guard path.hasSuffix(value) else { return target }
      return String(path.dropLast(value.count)) + query
    case .replace:
      return path.replacingOccurrences(of: value, with: with ?? "") + query
    }
  }
}

public struct StaticResponse: Sendable {
  public let status: Int
  /// Whether the status was written; if not, an error route answers with the error's status.
  public let statusGiven: Bool
  public let body: [UInt8]
  /// The body as written, for filling in placeholders per request.
  public let text: String
  /// Whether the body may hold placeholders (`{host}` …); if not, `body` is sent as is.
  public let hasPlaceholders: Bool
  public let close: Bool
  init(_ r: Respond) {
    status = r.status ?? 200
    statusGiven = r.status != nil
    body = Array(r.body.utf8)
    text = r.body
    hasPlaceholders = r.body.contains("{")
    close = r.close
  }
  init(status: Int, body: String) {
    self.status = status
    statusGiven = true
    self.body = Array(body.utf8)
    text = body
    hasPlaceholders = false
    close = false
  }
}

/// A `reverse_proxy` handler: its settings, and the balancer whose cursors all workers share.
public final class ProxyRoute: Sendable {
  public let config: ReverseProxy
  public let targets: [UpstreamTarget]
  public let balancer: Balancer
  /// Transport timeouts in loop milliseconds, converted once.
  public let dialMilliseconds: UInt64
  public let responseHeaderMilliseconds: UInt64
  public let keepAliveMilliseconds: UInt64?
  /// `lb_try_duration` and `lb_try_interval` in loop milliseconds.
  public let tryDurationMilliseconds: UInt64
  public let tryIntervalMilliseconds: UInt64
  /// Response statuses that count as failures (passive health).
  let unhealthyStatuses: [ClosedRange<Int>]
  /// A response head later than this (ns) counts as a failure; nil: never.
  let unhealthyLatencyNanoseconds: UInt64?

  /// TLS, PROXY headers and connection limits towards the upstreams.
  public let transport: CompiledTransport

  init(_ config: ReverseProxy) {
    self.config = config
    let active = config.healthChecks.active
    let selection = config.loadBalancing.selection
    let secret = selection.kind == .cookie ? selection.secret ?? "" : nil
    targets = config.upstreams.enumerated().map { UpstreamTarget($1, index: $0, active: active, cookieSecret: secret) }
    balancer = Balancer(config, hasActiveChecks: active != nil)
    transport = CompiledTransport(config.transport, targets: targets)
    dialMilliseconds = config.transport.dialTimeout.milliseconds
    responseHeaderMilliseconds = config.transport.responseHeaderTimeout.milliseconds
    keepAliveMilliseconds = config.transport.keepAlive?.milliseconds
    tryDurationMilliseconds = config.loadBalancing.tryDuration.milliseconds
    tryIntervalMilliseconds = config.loadBalancing.tryInterval.milliseconds
    let passive = config.healthChecks.passive
    let remembered = passive.failDuration > .zero
    unhealthyStatuses = remembered ? StatusPattern.ranges(passive.unhealthyStatus) ?? [] : []
    unhealthyLatencyNanoseconds = remembered ? passive.unhealthyLatency.map { $0.milliseconds * 1_000_000 } : nil
  }

  /// The upstream for a request, by the route's `lb_policy`, among the available upstreams not in
  /// `tried`; nil when there is none. `remoteIP` is the connection's peer, `clientIP` the client
  /// (`client_ip_hash`; the peer when not given).
  public func select(
    _ head: RequestHead, remoteIP: String, clientIP: String? = nil, excluding tried: UpstreamSet = UpstreamSet(),
    now: UInt64? = nil
  ) -> UpstreamTarget? {
    balancer.select(targets, head, remoteIP: remoteIP, clientIP: clientIP ?? remoteIP, excluding: tried, now: now)
  }
}

/// An upstream address with its pool key and counters found once, not per request.
public final class UpstreamTarget: Sendable, CustomStringConvertible {
  public let host: String
  public let port: Int
  public let key: PoolKey
  public let stats: UpstreamStats
  /// Its place in the route's list (the bit a request sets when it tried this upstream).
  public let index: Int
  /// The address's stable hash, for rendezvous hashing.
  public let addressHash: UInt64
  /// What active health checks say about it (nil: the route has none).
  public let health: UpstreamHealth?
  /// The checker that decides `health`: one per address and settings on a node.
  public let healthKey: HealthCheckKey?
  /// The `cookie` policy's cookie value naming this upstream (hex HMAC-SHA256 of the address).
  public let cookieValue: String?
  init(_ upstream: Upstream, index: Int = 0, active: ActiveHealthCheck? = nil, cookieSecret: String? = nil) {
    host = upstream.host
    port = upstream.port
    key = PoolKey(upstream.description)
    stats = UpstreamStats.named(upstream.description)
    self.index = index
    addressHash = StableHash.of(upstream.description)
    if let active {
      let key = HealthCheckKey(address: upstream.description, host: upstream.host, port: upstream.port, check: active)
      healthKey = key
      health = HealthCheckKey.health(for: key)
    } else {
      healthKey = nil
      health = nil
    }
    cookieValue = cookieSecret.map { HMACSHA256.hex(key: $0, upstream.description) }
  }
  public var description: String { key.text }
}

/// Requests to one upstream address, counted across routes and reloads (`/reverse_proxy/upstreams`):
/// the same address in two sites, or in the old and the new table during a reload, is one entry.
public final class UpstreamStats: Sendable {
  /// Requests sent or being sent and not yet answered in full.
  public let active = Atomic<Int>(0)
  public let total = Atomic<Int>(0)
  /// Recent failures (passive health), shared like the counts.
  public let failures = FailureLog()
  /// The same counts and more (failures, response-head latency) for `/metrics`.
  public let meter: UpstreamMeter

  init(address: String) { meter = UpstreamMeter(upstream: address) }

  func begin() {
    active.add(1, ordering: .relaxed)
    total.add(1, ordering: .relaxed)
    meter.began()
  }
  func end() {
    active.subtract(1, ordering: .relaxed)
    meter.ended()
  }

  private static let registry = Locked<[String: UpstreamStats]>([:])

  static func named(_ address: String) -> UpstreamStats {
    registry.withLock { known in
      if let stats = known[address] { return stats }
      let stats = UpstreamStats(address: address)
      known[address] = stats
      return stats
    }
  }
}
