import EdgeCaddyfile

/// `servers { listener_wrappers { … } trusted_proxies … }`: who edge believes about client addresses.
extension GlobalOptionsAdapter {
  /// `listener_wrappers { proxy_protocol { … } tls }`. The PROXY header is always read before TLS, so
  /// `proxy_protocol` must come before `tls` when both are written.
  static func listenerWrappers(_ d: inout Dispenser) throws(ConfigError) -> ProxyProtocolListener? {
    try d.noMoreArgs()
    var proxyProtocol: ProxyProtocolListener?
    var sawTLS = false
    let level = d.nesting
    while d.nextBlock(level) {
      let wrapper = d.token
      switch wrapper.text {
      case "proxy_protocol":
        if sawTLS {
          throw ConfigError(
            "'proxy_protocol' after 'tls' would read the header inside TLS; edge reads it before, so move it above 'tls'",
            at: wrapper)
        }
        if proxyProtocol != nil { throw ConfigError("'proxy_protocol' is given twice; keep one", at: wrapper) }
        proxyProtocol = try proxyProtocolWrapper(&d)
      case "tls":
        try d.noMoreArgs()
        sawTLS = true
      case "http_redirect":
        throw .unrecognized("listener wrapper", wrapper.text, caddyOnly: true, candidates: [], at: wrapper)
      default:
        throw .unrecognized("listener wrapper", wrapper.text, caddyOnly: false, candidates: ["proxy_protocol", "tls"], at: wrapper)
      }
    }
    return proxyProtocol
  }

  private static func proxyProtocolWrapper(_ d: inout Dispenser) throws(ConfigError) -> ProxyProtocolListener {
    try d.noMoreArgs()
    var wrapper = ProxyProtocolListener()
    let level = d.nesting
    while d.nextBlock(level) {
      let option = d.token
      switch option.text {
      case "timeout":
        wrapper.timeout = try d.durationArg()
        if wrapper.timeout < .zero { throw ConfigError("'timeout' must not be negative; write e.g. 5s", at: option) }
      case "allow": wrapper.allow += try ranges(&d, for: "allow")
      case "deny": wrapper.deny += try ranges(&d, for: "deny")
      case "fallback_policy":
        let arg = try d.singleArg()
        guard let policy = ProxyProtocolListener.Policy(rawValue: arg.text.lowercased()) else {
          let names = ProxyProtocolListener.Policy.allCases.map(\.rawValue)
          let hint = DirectiveCatalog.suggestion(for: arg.text.lowercased(), among: names)
          throw ConfigError(
            "unknown fallback_policy '\(arg.text)'\(hint); use one of \(names.joined(separator: ", "))", at: arg)
        }
        wrapper.fallbackPolicy = policy
      default:
        throw .unrecognized(
          "proxy_protocol option", option.text, caddyOnly: false, candidates: ["timeout", "allow", "deny", "fallback_policy"],
          at: option)
      }
    }
    return wrapper
  }

  /// `trusted_proxies static <ranges…|private_ranges>`, added to what earlier lines gave.
  static func trustedProxies(_ d: inout Dispenser, _ start: [String]?) throws(ConfigError) -> [String] {
    guard d.nextArg() else {
      throw ConfigError("'trusted_proxies' needs a source: 'trusted_proxies static <ranges…>'", at: d.token)
    }
    let source = d.token
    guard source.text == "static" else {
      if ["cloudflare", "combine", "dns"].contains(source.text) {
        throw ConfigError("trusted_proxies source '\(source.text)' is not supported yet; use 'static <ranges…>'", at: source)
      }
      throw ConfigError("unknown trusted_proxies source '\(source.text)'; write 'trusted_proxies static <ranges…>'", at: source)
    }
    var found = try ranges(&d, for: "trusted_proxies static", allowPrivate: true)
    // `static { ranges … }` as Caddy also takes it.
    let level = d.nesting
    while d.nextBlock(level) {
      guard d.val == "ranges" else {
        throw .unrecognized("trusted_proxies static option", d.val, caddyOnly: false, candidates: ["ranges"], at: d.token)
      }
      found += try ranges(&d, for: "ranges", allowPrivate: true)
    }
    if found.isEmpty {
      throw ConfigError("'trusted_proxies static' needs IP ranges, e.g. 'trusted_proxies static private_ranges'", at: source)
    }
    return (start ?? []) + found
  }

  /// The IP ranges after an option, at least one; `private_ranges` stands for Caddy's private ranges.
  private static func ranges(_ d: inout Dispenser, for name: String, allowPrivate: Bool = false) throws(ConfigError) -> [String] {
    let here = d.token
    let args = d.remainingArgTokens()
    var ranges: [String] = []
    for arg in args {
      if allowPrivate && arg.text == "private_ranges" {
        ranges += TrustedProxyRanges.privateRanges
        continue
      }
      guard IPRange(arg.text) != nil else {
        throw ConfigError("'\(arg.text)' is not an IP address or CIDR range; write e.g. 10.0.0.0/8 or 2001:db8::/32", at: arg)
      }
      ranges.append(arg.text)
    }
    if ranges.isEmpty && !allowPrivate {
      throw ConfigError("'\(name)' needs at least one IP range, e.g. '\(name) 10.0.0.0/8'", at: here)
    }
    return ranges
  }
}
