import EdgeCaddyfile

/// `reverse_proxy [<matcher>] [<upstreams…>] { … }` with the subdirectives documented on `ReverseProxy`.
enum ReverseProxyDirective {
  private static let options = [
    "to", "header_up", "header_down", "flush_interval", "stream_idle_timeout", "stream_timeout", "transport",
  ] + balancingOptions
  private static let notYet: Set<String> = [
    "lb_retry_match", "health_request_body", "health_follow_redirects", "health_upstream", "request_buffers",
    "response_buffers", "stream_close_delay", "trusted_proxies", "method", "rewrite", "handle_response",
    "replace_status", "verbose_logs", "dynamic", "copy_response", "copy_response_headers",
  ]
  private static let transportOptions = [
    "dial_timeout", "response_header_timeout", "keepalive", "keepalive_idle_conns", "keepalive_idle_conns_per_host",
    "max_conns_per_host", "proxy_protocol", "tls", "tls_server_name", "tls_trusted_ca_certs", "tls_insecure_skip_verify",
    "tls_timeout",
  ]

  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let name = d.token
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var proxy = ReverseProxy(upstreams: [])
    var balancing = BalancingLines()
    for arg in d.remainingArgTokens() { proxy.upstreams.append(try upstream(arg)) }
    let level = d.nesting
    while d.nextBlock(level) {
      let option = d.token
      switch option.text {
      case "to":
        let args = d.remainingArgTokens()
        guard !args.isEmpty else { throw ConfigError("'to' needs at least one upstream, e.g. 'to app:8080'", at: option) }
        for arg in args { proxy.upstreams.append(try upstream(arg)) }
      case "header_up": proxy.headerUp.append(try headerOperation(&d))
      case "header_down": proxy.headerDown.append(try headerOperation(&d))
      case "flush_interval":
        // Accepted for compatibility: edge always streams responses.
        let arg = try d.singleArg()
        guard Duration(caddyfile: arg.text) != nil else {
          throw ConfigError("'\(arg.text)' is not a duration; write e.g. 100ms or -1", at: arg)
        }
      case "stream_idle_timeout": proxy.streamIdleTimeout = try d.positiveDurationArg()
      case "stream_timeout": proxy.streamTimeout = try d.positiveDurationArg()
      case "transport": proxy.transport = try transport(&d, proxy.transport)
      case let other:
        if try parseBalancing(option, &d, &proxy, &balancing) { continue }
        if transportOptions.contains(other) {
          throw ConfigError("'\(other)' is a transport option; write it inside 'transport http { … }'", at: option)
        }
        throw .unrecognized(
          "reverse_proxy option", other, caddyOnly: notYet.contains(other), candidates: options, at: option)
      }
    }
    if proxy.upstreams.isEmpty {
      throw ConfigError(
        "reverse_proxy needs at least one upstream; write it after the directive or in a 'to' line", at: name)
    }
    try finishBalancing(&proxy, balancing)
    try settleScheme(&proxy, at: name)
    return Route(matcher: matcher, handler: .reverseProxy(proxy), location: SourceLocation(name))
  }

  private static func upstream(_ token: Token) throws(ConfigError) -> Upstream {
    do {
      return try Upstream(parsing: token.text)
    } catch {
      throw ConfigError(error.message, at: token)
    }
  }

  private static func headerOperation(_ d: inout Dispenser) throws(ConfigError) -> HeaderOperation {
    let directive = d.token
    return try HeaderOperation.parse(d.remainingArgTokens(), directive: directive.text, at: directive)
  }

  private static func transport(_ d: inout Dispenser, _ start: HTTPTransport) throws(ConfigError) -> HTTPTransport {
    let kind = try d.singleArg()
    guard kind.text == "http" else {
      throw ConfigError("transport '\(kind.text)' is not supported yet; use 'transport http'", at: kind)
    }
    var transport = start
    let level = d.nesting
    while d.nextBlock(level) {
      let option = d.token
      switch option.text {
      case "dial_timeout": transport.dialTimeout = try d.positiveDurationArg()
      case "response_header_timeout": transport.responseHeaderTimeout = try d.positiveDurationArg()
      case "keepalive":
        let arg = try d.singleArg()
        if arg.text == "off" {
          transport.keepAlive = nil
        } else if let duration = Duration(caddyfile: arg.text) {
          transport.keepAlive = duration
        } else {
          throw ConfigError("'\(arg.text)' is not a duration or 'off'; write e.g. 90s or off", at: arg)
        }
        if let keepAlive = transport.keepAlive, keepAlive <= .zero {
          throw ConfigError("'keepalive' must be positive; write e.g. 90s, or off", at: arg)
        }
      // Caddy counts idle connections in all and per host; edge keeps them per upstream per worker only.
      case "keepalive_idle_conns", "keepalive_idle_conns_per_host":
        transport.keepAliveIdleConns = try d.intArg()
      case "max_conns_per_host":
        // Caddy's 0 is "no limit".
        let limit = try d.intArg(atLeast: 0)
        transport.maxConnsPerHost = limit == 0 ? nil : limit
      case "proxy_protocol":
        let arg = try d.singleArg()
        guard let version = ProxyProtocolVersion(rawValue: arg.text) else {
          throw ConfigError("proxy_protocol '\(arg.text)' is not a PROXY protocol version; write v1 or v2", at: arg)
        }
        transport.proxyProtocol = version
      case "tls", "tls_server_name", "tls_trusted_ca_certs", "tls_insecure_skip_verify", "tls_timeout":
        transport.tls = try tlsOption(&d, transport.tls ?? UpstreamTLS())
      case "read_buffer", "write_buffer", "max_response_header", "dial_fallback_delay", "expect_continue_timeout",
        "resolvers", "tls_client_auth", "tls_renegotiation", "tls_except_ports", "keepalive_interval", "versions",
        "compression", "forward_proxy_url", "network_proxy", "local_address", "tls_trust_pool", "tls_curves":
        throw .unrecognized("transport option", option.text, caddyOnly: true, candidates: [], at: option)
      default:
        throw .unrecognized("transport option", option.text, caddyOnly: false, candidates: transportOptions, at: option)
      }
    }
    return transport
  }

  /// One `tls*` line of `transport http`: each turns TLS on, as in Caddy.
  private static func tlsOption(_ d: inout Dispenser, _ start: UpstreamTLS) throws(ConfigError) -> UpstreamTLS {
    var tls = start
    switch d.val {
    case "tls", "tls_insecure_skip_verify":
      let name = d.val
      try d.noMoreArgs()
      if name == "tls_insecure_skip_verify" { tls.insecureSkipVerify = true }
    case "tls_server_name":
      let arg = try d.singleArg()
      guard !arg.text.isEmpty, !arg.text.contains("{"), !arg.text.contains(" ") else {
        throw ConfigError("tls_server_name '\(arg.text)' is not a host name; write the name the upstream's certificate carries", at: arg)
      }
      tls.serverName = arg.text
    case "tls_trusted_ca_certs":
      let files = d.remainingArgTokens()
      guard !files.isEmpty else {
        throw ConfigError("'tls_trusted_ca_certs' needs at least one PEM file, e.g. 'tls_trusted_ca_certs /etc/edge/ca.pem'", at: d.token)
      }
      tls.trustedCACerts = (tls.trustedCACerts ?? []) + files.map(\.text)
    default:  // tls_timeout
      tls.handshakeTimeout = try d.positiveDurationArg()
    }
    return tls
  }

  /// After the whole block: `https://` upstreams turn TLS on; one `reverse_proxy` speaks one scheme, as in
  /// Caddy (a transport holds one TLS setting for all its upstreams).
  static func settleScheme(_ proxy: inout ReverseProxy, at directive: Token) throws(ConfigError) {
    let written = Set(proxy.upstreams.compactMap(\.scheme))
    if written.count > 1 {
      throw ConfigError(
        "reverse_proxy mixes http:// and https:// upstreams; all upstreams of one reverse_proxy use the same "
          + "scheme (split them into two reverse_proxy directives with matchers)", at: directive)
    }
    if written == ["https"], proxy.transport.tls == nil { proxy.transport.tls = UpstreamTLS() }
    if written == ["http"], proxy.transport.tls != nil {
      throw ConfigError(
        "upstreams are written http:// but the transport has TLS on; write https:// (or nothing) before them, "
          + "or remove the tls options", at: directive)
    }
  }
}
