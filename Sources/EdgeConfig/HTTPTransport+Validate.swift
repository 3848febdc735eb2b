/// Checks of the transport and forwarding options, for configs from any source (the Caddyfile adapter
/// refuses most of these earlier, at the offending token).
extension HTTPTransport {
  func validate(upstreams: [Upstream], at location: SourceLocation?) throws(ConfigError) {
    if let limit = maxConnsPerHost, limit < 1 {
      throw ConfigError("max_conns_per_host must be at least 1 (got \(limit)); leave it out for no limit", at: location)
    }
    let schemes = Set(upstreams.compactMap(\.scheme))
    for scheme in schemes where scheme != "http" && scheme != "https" {
      throw ConfigError("upstream scheme '\(scheme)' is not supported; use http or https", at: location)
    }
    if schemes.count > 1 {
      throw ConfigError("reverse_proxy mixes http:// and https:// upstreams; give each scheme its own reverse_proxy", at: location)
    }
    if schemes == ["https"], tls == nil {
      throw ConfigError("https:// upstreams need the transport's 'tls' settings (\"tls\": {} in JSON)", at: location)
    }
    if schemes == ["http"], tls != nil {
      throw ConfigError("upstreams are written http:// but the transport has TLS on; write https://", at: location)
    }
    guard let tls else { return }
    if tls.handshakeTimeout <= .zero {
      throw ConfigError("tls_timeout must be positive (got \(tls.handshakeTimeout.caddyfileString))", at: location)
    }
    if let files = tls.trustedCACerts {
      if files.isEmpty || files.contains(where: \.isEmpty) {
        throw ConfigError("tls_trusted_ca_certs needs PEM file names", at: location)
      }
      if tls.insecureSkipVerify {
        throw ConfigError(
          "tls_trusted_ca_certs and tls_insecure_skip_verify contradict each other (nothing is verified with the "
            + "second); keep one", at: location)
      }
    }
    if let name = tls.serverName, name.isEmpty || name.contains(where: { $0 == " " || $0 == "/" }) {
      throw ConfigError("tls_server_name '\(name)' is not a host name", at: location)
    }
  }
}

extension ServerOptions {
  /// `listener_wrappers { proxy_protocol }`, `trusted_proxies` and `client_ip_headers`.
  func validateForwarding() throws(ConfigError) {
    if let proxyProtocol {
      if proxyProtocol.timeout < .zero { throw ConfigError("proxy_protocol timeout must not be negative") }
      for range in proxyProtocol.allow + proxyProtocol.deny where IPRange(range) == nil {
        throw ConfigError("proxy_protocol: '\(range)' is not an IP address or CIDR range")
      }
    }
    for range in trustedProxies ?? [] where IPRange(range) == nil {
      throw ConfigError("trusted_proxies: '\(range)' is not an IP address or CIDR range")
    }
    if let headers = clientIPHeaders {
      if headers.isEmpty { throw ConfigError("client_ip_headers needs at least one field name") }
      for name in headers {
        do { try HeaderOperation(kind: .delete, name: name).validate(at: nil) } catch {
          throw ConfigError("client_ip_headers: '\(name)' is not a header field name")
        }
      }
    }
  }
}
