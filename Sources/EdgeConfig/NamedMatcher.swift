import EdgeCaddyfile
import EdgeRegex

/// Named matchers: `@name <matcher> <args…>` on one line, or `@name { <matcher> <args…> … }`, defined in a
/// site block and used by any directive of it as its first argument (`reverse_proxy @api app:8080`).
enum NamedMatcher {
  /// The matchers edge evaluates, and Caddy's that it does not yet.
  static let supported = [
    "path", "path_regexp", "host", "method", "header", "header_regexp", "query", "protocol", "client_ip", "remote_ip",
    "not",
  ]
  static let notYetSupported: Set<String> = ["expression", "file", "vars", "vars_regexp", "tls"]

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
        try condition(&d, into: &matcher, name: String(name.dropFirst()))
      }
      let level = d.nesting
      while d.nextBlock(level) { try condition(&d, into: &matcher, name: String(name.dropFirst())) }
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

  /// One `<matcher> <args…>` line, the dispenser on the matcher's name. `name`: the defined matcher's
  /// name without `@`, which regexps capture under unless they name themselves.
  static func condition(_ d: inout Dispenser, into matcher: inout RequestMatcher, name: String) throws(ConfigError) {
    let kind = d.token
    switch kind.text {
    case "not":
      var negated = RequestMatcher(paths: [])
      if d.nextArg() {
        try condition(&d, into: &negated, name: name)
      } else {
        let level = d.nesting
        while d.nextBlock(level) { try condition(&d, into: &negated, name: name) }
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
      // `private_ranges` as in Caddy: loopback and the private IPv4 and IPv6 ranges.
      let ranges = values.flatMap { $0 == "private_ranges" ? TrustedProxyRanges.privateRanges : [$0] }
      if kind.text == "client_ip" {
        matcher.clientIPs = (matcher.clientIPs ?? []) + ranges
      } else {
        matcher.remoteIPs = (matcher.remoteIPs ?? []) + ranges
      }
    case "path_regexp":
      guard args.count <= 2 else {
        throw ConfigError("unexpected '\(args[2].text)': path_regexp takes [<name>] <pattern>", at: args[2])
      }
      let pattern = args[args.count - 1]
      try compiles(pattern, "path_regexp")
      let captureName = args.count == 2 ? args[0].text : name
      matcher.pathRegexps = (matcher.pathRegexps ?? []) + [RegexCondition(name: captureName, pattern: pattern.text)]
    case "header_regexp":
      guard (2...3).contains(args.count) else {
        throw ConfigError(
          args.count < 2
            ? "header_regexp needs a field and a pattern: header_regexp [<name>] <field> <pattern>"
            : "unexpected '\(args[3].text)': header_regexp takes [<name>] <field> <pattern>",
          at: args.count < 2 ? kind : args[3])
      }
      let pattern = args[args.count - 1]
      try compiles(pattern, "header_regexp")
      let captureName = args.count == 3 ? args[0].text : name
      let field = args[args.count - 2].text
      matcher.headerRegexps = (matcher.headerRegexps ?? []) + [RegexCondition(name: captureName, field: field, pattern: pattern.text)]
    default:
      throw .unrecognized(
        "matcher", kind.text, caddyOnly: notYetSupported.contains(kind.text), candidates: supported, at: kind)
    }
  }
}

extension NamedMatcher {
  /// A pattern PCRE2 accepts, else an error at its token with the offset of the problem.
  static func compiles(_ token: Token, _ matcher: String) throws(ConfigError) {
    do {
      _ = try CompiledRegex(token.text)
    } catch {
      throw ConfigError("\(matcher) '\(token.text)': \(error)", at: token)
    }
  }

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
