extension RequestMatcher {
  /// Client IP ranges must parse (`10.0.0.0/8`, `192.0.2.1`, `::1/128`); `not` blocks are checked too.
  func validate(at location: SourceLocation?) throws(ConfigError) {
    for range in clientIPs ?? [] where IPRange(range) == nil {
      throw ConfigError("client_ip '\(range)' is not an IP address or CIDR range", at: location)
    }
    for negated in not ?? [] { try negated.validate(at: location) }
  }
}
