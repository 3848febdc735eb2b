import EdgeCaddyfile

/// Named matchers: `@name <matcher> <args…>` on one line, or `@name { <matcher> <args…> … }`, defined in a
/// site block and used by any directive of it as its first argument (`reverse_proxy @api app:8080`).
enum NamedMatcher {
  /// The matchers edge evaluates, and Caddy's that it does not yet.
  static let supported = ["path", "host", "method", "header", "query", "protocol", "client_ip", "remote_ip", "not"]
  static let notYetSupported: Set<String> = [
    "path_regexp", "header_regexp", "expression", "file", "vars", "vars_regexp", "tls",
  ]

  /// The definitions in `segments` (those whose first token starts with `@`), by name.
  static func definitions(in segments: [Segment]) throws(ConfigError) -> [String: RequestMatcher] {
    var named: [String: RequestMatcher] = [:]
    for segment in segments where segment.first.text.hasPrefix("@") {
      let name = segment.first.text
      guard name.count > 1 else { throw ConfigError("a matcher name is missing after '@'", at: segment.first) }
      var d = segment.dispenser
      _ = d.next()
      var matcher = RequestMatcher(paths: [])
      matcher.name = name
      if d.nextArg() {
        // One line: `@name path /a /b`.
        try condition(&d, into: &matcher)
      }
      let level = d.nesting
      while d.nextBlock(level) { try condition(&d, into: &matcher) }
      if named[name] != nil { throw ConfigError("matcher '\(name)' is defined twice in this site", at: segment.first) }
      var empty = RequestMatcher(paths: [])
      empty.name = name
      if matcher == empty {
        throw ConfigError("matcher '\(name)' has no conditions; add one, e.g. '\(name) path /api/*'", at: segment.first)
      }
      named[name] = matcher
    }
    return named
  }

  /// One `<matcher> <args…>` line, the dispenser on the matcher's name.
  static func condition(_ d: inout Dispenser, into matcher: inout RequestMatcher) throws(ConfigError) {
    let kind = d.token
    switch kind.text {
    case "not":
      var negated = RequestMatcher(paths: [])
      if d.nextArg() {
        try condition(&d, into: &negated)
      } else {
        let level = d.nesting
        while d.nextBlock(level) { try condition(&d, into: &negated) }
      }
      if negated == RequestMatcher(paths: []) {
        throw ConfigError("'not' needs a matcher to negate, e.g. 'not path /admin/*'", at: kind)
      }
      matcher.not = (matcher.not ?? []) + [negated]
      return
    default: break
    }
    let args = d.remainingArgTokens()
    guard !args.isEmpty else { throw ConfigError("matcher '\(kind.text)' needs at least one value", at: kind) }
    let values = args.map(\.text)
    switch kind.text {
    case "path":
      for arg in args where !(arg.text.hasPrefix("/") || arg.text.hasPrefix("*")) {
        throw ConfigError("path matcher '\(arg.text)' must start with / or *", at: arg)
      }
      matcher.paths += values
    case "host": matcher.hosts = (matcher.hosts ?? []) + values.map { $0.lowercased() }
    case "method": matcher.methods = (matcher.methods ?? []) + values.map { $0.uppercased() }
    case "header":
      var headers = matcher.headers ?? [:]
      headers[values[0].lowercased(), default: []] += values.dropFirst()
      matcher.headers = headers
    case "query":
      var query = matcher.query ?? [:]
      for arg in args {
        guard let equals = arg.text.firstIndex(of: "=") else {
          throw ConfigError("query matcher '\(arg.text)' needs key=value", at: arg)
        }
        query[String(arg.text[..<equals]), default: []].append(String(arg.text[arg.text.index(after: equals)...]))
      }
      matcher.query = query
    case "protocol":
      for arg in args where !["http", "https"].contains(arg.text.lowercased()) {
        throw ConfigError("protocol '\(arg.text)' is not supported; use http or https", at: arg)
      }
      matcher.protocols = (matcher.protocols ?? []) + values.map { $0.lowercased() }
    case "client_ip", "remote_ip":
      matcher.clientIPs = (matcher.clientIPs ?? []) + values
    default:
      throw .unrecognized(
        "matcher", kind.text, caddyOnly: notYetSupported.contains(kind.text), candidates: supported, at: kind)
    }
  }
}

extension NamedMatcher {
  /// The named matchers of the site block being adapted (directive parsers look them up by name).
  @TaskLocal static var current: [String: RequestMatcher]?

  /// Runs `body` with `named` as the site's matchers.
  static func using<T>(_ named: [String: RequestMatcher], _ body: () throws(ConfigError) -> T) throws(ConfigError) -> T {
    do {
      return try $current.withValue(named) { try body() }
    } catch let error as ConfigError {
      throw error
    } catch {
      throw ConfigError("\(error)")
    }
  }
}
