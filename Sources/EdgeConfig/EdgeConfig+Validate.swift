/// Whole-configuration checks, for configs from any source (Caddyfile or JSON). Errors carry the site's
/// or route's position when known.
extension EdgeConfig {
  public func validate() throws(ConfigError) {
    try global.validate()
    try refuseACMEUntilBuilt()
    var seen: [String: SourceLocation?] = [:]
    for site in sites {
      if site.addresses.isEmpty { throw ConfigError("site has no address; write at least one", at: site.location) }
      for address in site.addresses {
        if let port = address.port { try Self.checkPort(port, "site '\(address)'", at: site.location) }
        if let scheme = address.scheme, scheme != "http" && scheme != "https" {
          throw ConfigError("site '\(address)' has scheme '\(scheme)'; use http or https", at: site.location)
        }
        let key = Self.identity(of: address)
        if let first = seen[key] {
          let other = first.map { " (first at \($0))" } ?? ""
          throw ConfigError(
            "site address '\(address)' is used by two site blocks\(other); merge them or remove one",
            at: site.location)
        }
        seen[key] = site.location
      }
      for route in site.routes { try route.validate(fallback: site.location) }
      if let log = site.log {
        if log.output == .file, (log.path ?? "").isEmpty { throw ConfigError("log output file needs a path", at: site.location) }
        if !GlobalOptionsAdapter.levels.contains(log.level) {
          throw ConfigError("unknown log level '\(log.level)'", at: site.location)
        }
      }
      for block in site.errors ?? [] {
        let at = block.location ?? site.location
        guard ErrorRoutes.ranges(block.statuses) != nil else {
          throw ConfigError(
            "handle_errors statuses \(block.statuses) must be error codes (400–599) or classes (4xx, 5xx)", at: at)
        }
        for route in block.routes { try route.validate(fallback: at) }
      }
    }
  }

  /// Addresses that mean the same site: scheme, case-folded host, port and path as written.
  private static func identity(of address: SiteAddress) -> String {
    [address.scheme ?? "", address.host?.lowercased() ?? "", address.port.map(String.init) ?? "", address.path ?? ""]
      .joined(separator: "|")
  }

  static func checkPort(_ port: Int, _ what: String, at location: SourceLocation?) throws(ConfigError) {
    guard (1...65535).contains(port) else {
      throw ConfigError("\(what): port \(port) is outside 1–65535", at: location)
    }
  }
}

extension GlobalOptions {
  func validate() throws(ConfigError) {
    if let admin, admin != "off" { _ = try AdminAddress(parsing: admin) }
    if let workers, workers < 1 { throw ConfigError("workers must be at least 1 (got \(workers)); or leave it out for one per CPU core") }
    try EdgeConfig.checkPort(httpPort, "http_port", at: nil)
    try EdgeConfig.checkPort(httpsPort, "https_port", at: nil)
    if httpPort == httpsPort { throw ConfigError("http_port and https_port are both \(httpPort); give them different ports") }
    if gracePeriod < .zero { throw ConfigError("grace_period must not be negative") }
    if !["debug", "info", "warn", "error"].contains(logLevel) {
      throw ConfigError("log level '\(logLevel)' is unknown; use debug, info, warn or error")
    }
    try servers.validate()
  }
}

extension ServerOptions {
  func validate() throws(ConfigError) {
    for (name, value) in [("read_header", readHeaderTimeout), ("read_body", readBodyTimeout), ("write", writeTimeout), ("idle", idleTimeout)]
    where value <= .zero {
      throw ConfigError("servers timeout '\(name)' must be positive (got \(value.caddyfileString))")
    }
    for (name, value) in [("max_header_size", maxHeaderBytes), ("max_uri_length", maxURIBytes), ("max_header_count", maxHeaderCount)]
    where value < 1 {
      throw ConfigError("servers option '\(name)' must be at least 1 (got \(value))")
    }
    if let maxConnections, maxConnections < 1 {
      throw ConfigError("servers option 'max_connections' must be at least 1 (got \(maxConnections))")
    }
    if minBodyRate < 0 { throw ConfigError("servers option 'min_body_rate' must not be negative (got \(minBodyRate))") }
    try validateForwarding()
  }
}

extension Route {
  func validate(fallback: SourceLocation?) throws(ConfigError) {
    let at = location ?? fallback
    if let matcher {
      if matcher.paths.contains(where: \.isEmpty) || (matcher.paths.isEmpty && matcher.isPathOnly) {
        throw ConfigError("route matcher has an empty path; write e.g. /api/*", at: at)
      }
      try matcher.validate(at: at)
    }
    switch handler {
    case .respond(let respond):
      if let status = respond.status, !(100...999).contains(status) {
        throw ConfigError("respond status \(status) is not an HTTP status; use 100–999", at: at)
      }
    case .headers(let headers):
      for operation in headers.operations {
        try operation.validate(at: at)
        if ["content-length", "transfer-encoding", "connection"].contains(operation.name.lowercased()) {
          throw ConfigError(
            "'header' cannot change '\(operation.name)': edge sets the framing of every response itself", at: at)
        }
      }
    case .group(let group), .route(let group):
      for route in group.routes { try route.validate(fallback: at) }
    case .error(let error):
      guard (400...599).contains(error.status) else { throw ConfigError("error status \(error.status) is not 400–599", at: at) }
    case .encode(let encode):
      if encode.minimumLength < 0 { throw ConfigError("encode minimum_length must not be negative", at: at) }
      if encode.formats.isEmpty { throw ConfigError("encode needs at least one format: zstd, gzip", at: at) }
      for (index, format) in encode.formats.enumerated() {
        guard format == "zstd" || format == "gzip" else { throw ConfigError("encode format '\(format)' is not zstd or gzip", at: at) }
        if encode.formats[..<index].contains(format) { throw ConfigError("encode format '\(format)' is listed twice", at: at) }
      }
      if let level = encode.gzipLevel, !(1...9).contains(level) {
        throw ConfigError("encode gzip level \(level) is not 1–9", at: at)
      }
      if let level = encode.zstdLevel, EncodeConfig.zstdLevelNumber(level) == nil {
        throw ConfigError("encode zstd level '\(level)' is not one of fastest, default, better or best", at: at)
      }
    case .rewrite, .abort, .tryFiles, .metrics:
      break
    case .basicAuth(let auth):
      if auth.accounts.isEmpty { throw ConfigError("basic_auth has no accounts; add '<username> <hash>' lines", at: at) }
      for account in auth.accounts where PasswordHashForm.isBcrypt(account.hash) == false {
        throw ConfigError("basic_auth: the hash of '\(account.username)' is not a bcrypt hash ($2a$/$2b$/$2y$)", at: at)
      }
    case .root(let path):
      if path.isEmpty { throw ConfigError("'root' needs a directory", at: at) }
    case .fileServer, .redirect:
      break
    case .requestBody(let body):
      if let size = body.maxSize, size < 0 { throw ConfigError("request_body max_size must not be negative", at: at) }
    case .reverseProxy(let proxy):
      try proxy.validate(at: at)
    }
  }
}

extension ReverseProxy {
  func validate(at location: SourceLocation?) throws(ConfigError) {
    if upstreams.isEmpty { throw ConfigError("reverse_proxy has no upstreams; add at least one", at: location) }
    for upstream in upstreams {
      try EdgeConfig.checkPort(upstream.port, "upstream '\(upstream)'", at: location)
      if upstream.host.isEmpty { throw ConfigError("upstream with an empty host; write host:port", at: location) }
    }
    try loadBalancing.validate(upstreams: upstreams.count, at: location)
    try healthChecks.validate(at: location)
    for (name, value) in [("stream_idle_timeout", streamIdleTimeout), ("stream_timeout", streamTimeout), ("keepalive", transport.keepAlive)] {
      if let value, value <= .zero { throw ConfigError("\(name) must be positive (got \(value.caddyfileString))", at: location) }
    }
    if transport.dialTimeout <= .zero || transport.responseHeaderTimeout <= .zero {
      throw ConfigError("transport timeouts must be positive", at: location)
    }
    try transport.validate(upstreams: upstreams, at: location)
    for operation in headerUp + headerDown {
      try operation.validate(at: location)
      // A second framing field set on a request or response edge frames itself could be read two ways.
      if ["content-length", "transfer-encoding"].contains(operation.name.lowercased()) {
        throw ConfigError(
          "'\(headerUp.contains(operation) ? "header_up" : "header_down")' cannot change '\(operation.name)': edge sets the framing of every message itself",
          at: location)
      }
    }
    if transport.keepAliveIdleConns < 0 {
      throw ConfigError("keepalive_idle_conns must not be negative (got \(transport.keepAliveIdleConns))", at: location)
    }
  }
}

extension EdgeConfig {
  /// What the ACME agent does not do is refused by name rather than ignored (P-384 keys), and on-demand
  /// issuance needs `ask`: without it any name pointed at the node would get a certificate.
  func refuseACMEUntilBuilt() throws(ConfigError) {
    if global.keyType == "p384" { throw ConfigError("key_type p384 is not supported yet; use p256") }
    for site in sites {
      for issuer in global.issuers(for: site.tls) where issuer.dns?.command.isEmpty == true {
        throw ConfigError("'propagation_delay' is set but no DNS provider: add 'dns exec <program>'", at: site.location)
      }
    }
    for site in sites {
      guard let tls = site.tls else { continue }
      if tls.keyType == "p384" { throw ConfigError("key_type p384 is not supported yet; use p256", at: site.location) }
      if tls.onDemand, global.onDemandTLS?.ask == nil {
        throw ConfigError(
          "tls on_demand needs 'on_demand_tls { ask <url> }' in the global options, so that only names you allow get certificates",
          at: site.location)
      }
    }
  }
}
