import EdgeCaddyfile

/// `header [<matcher>] [>][+|-|?]<field> [<value>]`, or `header [<matcher>] { … }` with one such operation a
/// line: response fields, set on whatever answers the request.
enum HeaderDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let directive = d.token
    let location = SourceLocation(directive)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var operations: [HeaderOperation] = []
    let args = d.remainingArgTokens()
    if !args.isEmpty { operations.append(try HeaderOperation.parse(args, directive: "header", at: directive)) }
    let level = d.nesting
    while d.nextBlock(level) {
      let first = d.token
      operations.append(try HeaderOperation.parse([first] + d.remainingArgTokens(), directive: "header", at: first))
    }
    guard !operations.isEmpty else {
      throw ConfigError("'header' needs an operation: 'header Name value', '+Name value', '-Name' or '?Name value'", at: directive)
    }
    return Route(matcher: matcher, handler: .headers(ResponseHeaders(operations: operations)), location: location)
  }
}
