import EdgeCaddyfile

/// Reads the global options block: `workers`, `http_port`, `https_port`, `grace_period`, `email`,
/// `admin`, `log { level }`, `servers { timeouts { … } max_header_size … max_connections … listener_wrappers …
/// trusted_proxies … }` and `telemetry`.
enum GlobalOptionsAdapter {
  static func adapt(_ block: ServerBlock) throws(ConfigError) -> GlobalOptions {
    var options = GlobalOptions()
    for segment in block.segments {
      var d = segment.dispenser
      _ = d.next()
      let name = segment.first
      if !["admin", "log", "servers", "storage", "acme_eab", "cert_issuer", "on_demand_tls", "metrics"].contains(name.text),
        DirectiveCatalog.supportedGlobal.contains(name.text)
      {
        try d.noBlock(name.text)
      }
      switch name.text {
      case "workers": options.workers = try d.intArg(atLeast: 1)
      case "http_port": options.httpPort = try d.portArg()
      case "https_port": options.httpsPort = try d.portArg()
      case "grace_period":
        options.gracePeriod = try d.durationArg()
        if options.gracePeriod < .zero { throw ConfigError("'grace_period' must not be negative", at: d.token) }
      case "email": options.email = try d.singleArg().text
      case "admin":
        // `admin off`, `admin ADDRESS`, `admin [ADDRESS] { origins …; enforce_origin }`.
        let args = d.remainingArgTokens()
        guard args.count <= 1 else { throw ConfigError("'admin' takes one address or 'off'", at: args[1]) }
        options.admin = args.first?.text
        if let address = args.first, address.text != "off" {
          do { _ = try AdminAddress(parsing: address.text) } catch { throw ConfigError(error.message, at: address) }
        }
        let level = d.nesting
        while d.nextBlock(level) {
          switch d.val {
          case "origins":
            let origins = d.remainingArgs()
            guard !origins.isEmpty else { throw ConfigError("'origins' needs at least one host:port or origin", at: d.token) }
            options.adminOrigins = (options.adminOrigins ?? []) + origins.map { $0.lowercased() }
          case "enforce_origin":
            try d.noMoreArgs()
            options.adminEnforceOrigin = true
          case "config", "identity", "remote":
            throw .unrecognized("admin option", d.val, caddyOnly: true, candidates: [], at: d.token)
          default:
            throw .unrecognized("admin option", d.val, caddyOnly: false, candidates: ["origins", "enforce_origin"], at: d.token)
          }
        }
        if options.admin == "off" && (options.adminOrigins != nil || options.adminEnforceOrigin) {
          throw ConfigError("'admin off' takes no options", at: name)
        }
      case "log": options.logLevel = try logLevel(&d)
      case "storage": options.storage = try storage(&d)
      case "local_certs":
        try d.noMoreArgs()
        options.localCerts = true
      case "auto_https":
        let arg = try d.singleArg()
        guard let value = AutoHTTPS(rawValue: arg.text), value != .on else {
          if ["ignore_loaded_certs", "prefer_wildcard"].contains(arg.text) {
            throw ConfigError("'auto_https \(arg.text)' is not supported yet; use off, disable_redirects or disable_certs", at: arg)
          }
          throw ConfigError("unknown 'auto_https \(arg.text)'; use off, disable_redirects or disable_certs", at: arg)
        }
        options.autoHTTPS = value
      case "default_sni": options.defaultSNI = try d.singleArg().text.lowercased()
      case "acme_ca": options.acmeCA = try ACMEOptionsAdapter.directoryURL(try d.singleArg(for: "acme_ca"))
      case "acme_ca_root": options.acmeCARoot = try d.singleArg(for: "acme_ca_root").text
      case "acme_eab": options.acmeEAB = try ACMEOptionsAdapter.eab(&d)
      case "acme_dns": options.acmeDNS = try ACMEOptionsAdapter.dns(&d, options.acmeDNS)
      case "cert_issuer": options.certIssuers = (options.certIssuers ?? []) + [try ACMEOptionsAdapter.issuer(&d)]
      case "on_demand_tls": options.onDemandTLS = try ACMEOptionsAdapter.onDemand(&d)
      case "key_type": options.keyType = try keyType(&d)
      case "renewal_window_ratio":
        let arg = try d.singleArg(for: "renewal_window_ratio")
        guard let ratio = Double(arg.text), ratio > 0, ratio < 1 else {
          throw ConfigError("renewal_window_ratio '\(arg.text)' must be a number between 0 and 1, e.g. 0.33", at: arg)
        }
        options.renewalWindowRatio = ratio
      case "servers": options.servers = try servers(&d, options.servers)
      case "metrics": options.requestMetrics = try metrics(&d)
      case "telemetry":
        // `telemetry`, `telemetry on` or `telemetry off`.
        let arg = d.nextArg() ? d.token : nil
        if let arg, arg.text != "on" && arg.text != "off" {
          throw ConfigError("'telemetry' takes 'on' or 'off' (or nothing: on), not '\(arg.text)'", at: arg)
        }
        try d.noMoreArgs(for: arg.map { "telemetry \($0.text)" } ?? "telemetry")
        options.telemetry = arg?.text != "off"
      case let other where DirectiveCatalog.supported.contains(other):
        throw ConfigError("'\(other)' is a site directive, not a global option; put it inside a site block", at: name)
      case let other:
        throw .unrecognized(
          "global option", other, caddyOnly: DirectiveCatalog.notYetSupportedGlobal.contains(other),
          candidates: DirectiveCatalog.supportedGlobal + DirectiveCatalog.notYetSupportedGlobal, at: name)
      }
    }
    return options
  }

  /// `metrics` (on, as by default; Caddy's way of turning them on), `metrics off`, or `metrics { per_host }`
  /// (edge's series are always by site, which is by host).
  private static func metrics(_ d: inout Dispenser) throws(ConfigError) -> Bool {
    var on = true
    if d.nextArg() {
      switch d.val {
      case "on": on = true
      case "off": on = false
      default: throw ConfigError("'metrics \(d.val)' is not on or off", at: d.token)
      }
      try d.noMoreArgs(for: "metrics")
    }
    let level = d.nesting
    while d.nextBlock(level) {
      guard d.val == "per_host" else {
        throw .unrecognized("metrics option", d.val, caddyOnly: false, candidates: ["per_host"], at: d.token)
      }
      try d.noMoreArgs(for: "per_host")
    }
    return on
  }

  /// `storage file_system <path>` or `storage file_system { root <path> }`. Other backends (Redis) come
  /// with the cluster.
  private static func storage(_ d: inout Dispenser) throws(ConfigError) -> String {
    guard d.nextArg() else { throw ConfigError("'storage' needs a backend: 'storage file_system <path>'", at: d.token) }
    guard d.val == "file_system" else {
      throw ConfigError("storage backend '\(d.val)' is not supported yet; use 'file_system <path>'", at: d.token)
    }
    var root: String?
    if d.nextArg() { root = d.val }
    try d.noMoreArgs()
    let level = d.nesting
    while d.nextBlock(level) {
      guard d.val == "root" else {
        throw .unrecognized("file_system storage option", d.val, caddyOnly: false, candidates: ["root"], at: d.token)
      }
      root = try d.singleArg().text
    }
    guard let root, !root.isEmpty else {
      throw ConfigError("'storage file_system' needs a directory: 'storage file_system <path>'", at: d.token)
    }
    return root
  }

  static let levels = ["debug", "info", "warn", "error"]

  /// `log { level LEVEL }`. Named logs and outputs come later.
  private static func logLevel(_ d: inout Dispenser) throws(ConfigError) -> String {
    var level = "info"
    if d.nextArg() { throw ConfigError("named logs ('log \(d.val)') are not supported yet", at: d.token) }
    while d.nextBlock(0) {
      switch d.val {
      case "level":
        let arg = try d.singleArg()
        let value = arg.text.lowercased()
        guard levels.contains(value) else {
          throw ConfigError("unknown log level '\(arg.text)'; use one of \(levels.joined(separator: ", "))", at: arg)
        }
        level = value
      default:
        throw ConfigError("log option '\(d.val)' is not supported yet; only 'level' is", at: d.token)
      }
    }
    return level
  }

  /// `key_type p256|p384`.
  static func keyType(_ d: inout Dispenser) throws(ConfigError) -> String {
    let arg = try d.singleArg(for: "key_type")
    switch arg.text {
    case "p256", "p384": return arg.text
    case "rsa2048", "rsa4096", "ed25519":
      throw ConfigError("key_type '\(arg.text)' is not supported yet; use p256 or p384", at: arg)
    default:
      throw ConfigError(
        "unknown key_type '\(arg.text)'\(DirectiveCatalog.suggestion(for: arg.text, among: ["p256", "p384"])); use p256 or p384",
        at: arg)
    }
  }

  private static func servers(_ d: inout Dispenser, _ start: ServerOptions) throws(ConfigError) -> ServerOptions {
    var servers = start
    if d.nextArg() {
      throw ConfigError("per-listener 'servers \(d.val)' is not supported yet; write 'servers {'", at: d.token)
    }
    while d.nextBlock(0) {
      switch d.val {
      case "timeouts":
        try d.noMoreArgs()
        while d.nextBlock(1) {
          switch d.val {
          case "read_header": servers.readHeaderTimeout = try d.positiveDurationArg()
          case "read_body": servers.readBodyTimeout = try d.positiveDurationArg()
          case "write": servers.writeTimeout = try d.positiveDurationArg()
          case "idle": servers.idleTimeout = try d.positiveDurationArg()
          default:
            let hint = DirectiveCatalog.suggestion(for: d.val, among: ["read_header", "read_body", "write", "idle"])
            throw ConfigError("unknown timeout '\(d.val)'\(hint)", at: d.token)
          }
        }
      case "max_header_size": servers.maxHeaderBytes = try d.sizeArg()
      case "max_uri_length": servers.maxURIBytes = try d.sizeArg()
      case "max_header_count": servers.maxHeaderCount = try d.intArg(atLeast: 1)
      case "max_connections": servers.maxConnections = try d.intArg(atLeast: 1)
      case "min_body_rate": servers.minBodyRate = try d.sizeArg()
      case "protocols":
        let args = d.remainingArgTokens()
        guard !args.isEmpty else { throw ConfigError("'protocols' needs at least one of h1, h2, h2c", at: d.token) }
        for arg in args where !["h1", "h2", "h2c", "h3"].contains(arg.text) {
          throw ConfigError("unknown protocol '\(arg.text)'; write h1, h2 or h2c", at: arg)
        }
        if let h3 = args.first(where: { $0.text == "h3" }) {
          throw ConfigError("edge does not serve HTTP/3 (QUIC) yet; write h1, h2 or h2c", at: h3)
        }
        guard args.contains(where: { $0.text == "h1" }) else {
          throw ConfigError("'protocols' must include h1: edge serves HTTP/1.1 on every listener", at: args[0])
        }
        servers.protocols = args.map(\.text)
      case "listener_wrappers": servers.proxyProtocol = try listenerWrappers(&d)
      case "trusted_proxies": servers.trustedProxies = try trustedProxies(&d, servers.trustedProxies)
      case "trusted_proxies_strict":
        // Accepted: edge always reads client addresses the strict way (right to left).
        try d.noMoreArgs()
      case "client_ip_headers":
        let names = d.remainingArgTokens()
        guard !names.isEmpty else {
          throw ConfigError("'client_ip_headers' needs at least one field name, e.g. 'client_ip_headers X-Forwarded-For'", at: d.token)
        }
        for name in names {
          do { try HeaderOperation(kind: .delete, name: name.text).validate(at: nil) } catch {
            throw ConfigError("'\(name.text)' is not a header field name", at: name)
          }
        }
        servers.clientIPHeaders = names.map(\.text)
      case "metrics", "enable_full_duplex", "log_credentials", "strict_sni_host", "keepalive_interval", "name":
        throw .unrecognized("servers option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "servers option", d.val, caddyOnly: false,
          candidates: [
            "timeouts", "max_header_size", "max_uri_length", "max_header_count", "max_connections", "min_body_rate",
            "protocols", "listener_wrappers", "trusted_proxies", "trusted_proxies_strict", "client_ip_headers",
          ], at: d.token)
      }
    }
    return servers
  }
}
