import EdgeCaddyfile

/// `request_body [<matcher>] { max_size <size> }`: requests with a larger body get 413.
enum RequestBodyDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    try d.noMoreArgs(for: "request_body")
    var body = RequestBody()
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "max_size": body.maxSize = try d.sizeArg()
      case "read_timeout", "write_timeout", "set":
        throw .unrecognized("request_body option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized("request_body option", d.val, caddyOnly: false, candidates: ["max_size"], at: d.token)
      }
    }
    return Route(matcher: matcher, handler: .requestBody(body), location: location)
  }
}
