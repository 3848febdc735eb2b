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
  private static let transportOptions = ["dial_timeout", "response_header_timeout", "keepalive", "keepalive_idle_conns"]

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
      switch d.val {
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
      case "keepalive_idle_conns": transport.keepAliveIdleConns = try d.intArg()
      case "read_buffer", "write_buffer", "max_response_header", "proxy_protocol", "dial_fallback_delay",
        "expect_continue_timeout", "resolvers", "tls", "tls_client_auth", "tls_insecure_skip_verify",
        "tls_timeout", "tls_trusted_ca_certs", "tls_server_name", "tls_renegotiation", "tls_except_ports",
        "keepalive_interval", "keepalive_idle_conns_per_host", "versions", "compression", "max_conns_per_host",
        "forward_proxy_url", "network_proxy", "local_address", "tls_trust_pool", "tls_curves":
        throw .unrecognized("transport option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized("transport option", d.val, caddyOnly: false, candidates: transportOptions, at: d.token)
      }
    }
    return transport
  }
}
