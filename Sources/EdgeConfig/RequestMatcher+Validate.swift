import EdgeRegex

extension RequestMatcher {
  /// Client IP ranges must parse (`10.0.0.0/8`, `192.0.2.1`, `::1/128`) and regexps compile; `not` blocks
  /// are checked too.
  func validate(at location: SourceLocation?) throws(ConfigError) {
    for range in clientIPs ?? [] where IPRange(range) == nil {
      throw ConfigError("client_ip '\(range)' is not an IP address or CIDR range", at: location)
    }
    for range in remoteIPs ?? [] where IPRange(range) == nil {
      throw ConfigError("remote_ip '\(range)' is not an IP address or CIDR range", at: location)
    }
    for condition in (pathRegexps ?? []) + (headerRegexps ?? []) {
      do {
        _ = try CompiledRegex(condition.pattern)
      } catch {
        throw ConfigError("regexp '\(condition.pattern)': \(error)", at: location)
      }
      if condition.field?.isEmpty == true { throw ConfigError("header_regexp has an empty field name", at: location) }
    }
    for negated in not ?? [] { try negated.validate(at: location) }
  }
}
